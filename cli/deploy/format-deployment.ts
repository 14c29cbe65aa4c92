import type { DeploymentRecord, DeploymentStatus } from '../../core/index.js';

/** One line per environment: its newest deployment. */
export function formatDeploymentList(deployments: readonly DeploymentRecord[]): string {
  if (deployments.length === 0) return 'no deployments yet: one starts when a release manifest changes\n';
  return deployments
    .map(
      (d) =>
        `${d.service}/${d.env}  ${d.id}  ${d.release.version}  ${stateOf(d)}  step ${d.step + 1}/${Math.max(1, d.plan.steps.length)}\n`,
    )
    .join('');
}

/** A deployment in full: the release, its state and why, every step and each host's task. */
export function formatDeploymentStatus(status: DeploymentStatus): string {
  const d = status.deployment;
  const lines = [
    `${d.service}/${d.env} ${d.id}: ${d.previousVersion ? `${d.previousVersion} → ` : ''}${d.release.version}  ${stateOf(d)}`,
    `  commit ${d.release.commit.slice(0, 12)} by ${d.release.author.name}${d.release.approvals.length ? `, approved by ${d.release.approvals.join(', ')}` : ''}`,
  ];
  if (d.config) {
    const previous = d.config.previous?.revision.commit.slice(0, 12);
    lines.push(
      `  configuration of ${d.config.target.revision.commit.slice(0, 12)} rides the rollout${previous ? `; hosts not reached (every host, on abort) serve ${previous}` : ''}${d.configOnly ? '; no deploy command runs' : ''}`,
    );
  }
  if (d.reason) lines.push(`  ${d.reason}`);
  if (d.drainDeadline && !d.settled && d.state !== 'paused')
    lines.push(
      `  step ${d.step + 1} waits for the services that drain its hosts to apply the drain, until ${d.drainDeadline} (then it pauses)`,
    );
  d.plan.steps.forEach((step, index) => {
    const marker = index === d.step && !d.settled ? '▶' : ' ';
    lines.push(
      `${marker} ${step.kind === 'canary' ? 'canary' : `batch ${index + (d.plan.steps[0]?.kind === 'canary' ? 0 : 1)}`}:`,
    );
    for (const host of step.hosts) {
      const task = status.tasks[host];
      const detail = task
        ? `${task.state}${task.failure ? ` (${task.failure}${task.exitCode !== undefined ? ` ${task.exitCode}` : ''})` : ''}${task.attempt > 1 ? ` attempt ${task.attempt}` : ''}${task.durationMs !== undefined ? ` ${task.durationMs} ms` : ''}${task.message && task.state !== 'succeeded' ? ` — ${task.message.split('\n')[0]}` : ''}`
        : d.skipped.includes(host)
          ? 'to be skipped'
          : 'not started';
      lines.push(`    ${host}  ${detail}`);
    }
  });
  const last = d.transitions.at(-1);
  if (last) lines.push(`  last change ${last.at} by ${last.actor}`);
  for (const r of d.rejected ?? [])
    lines.push(
      `  rejected ${r.action}${r.host ? ` ${r.host}` : ''} by ${r.by} at ${r.at}${r.reason ? ` (${r.reason})` : ''}: ${r.rejection}`,
    );
  return `${lines.join('\n')}\n`;
}

function stateOf(d: DeploymentRecord): string {
  return d.state === 'paused' ? `paused (${d.pauseReason ?? 'manual'})` : d.state;
}
