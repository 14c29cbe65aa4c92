import { type DeploymentRecord, isTerminalDeployment } from '../records/deployment-record.js';
import { type DeploymentTaskRecord, isActiveTask, isFailedTask } from '../records/deployment-task-record.js';

/**
 * The hosts of a deployment's service that consumers which opted in (`drainDuringDeploys`) should
 * see draining now, decided from the stored deployment, its tasks and the time alone, so that any
 * controller reaches the same answer after a failover:
 * - a host whose task is pending or in flight drains: it is about to restart, or restarting, until its
 *   health check passed — in flight even after an abort or a supersession, as such tasks finish;
 * - the hosts of the step due next drain once it is due (its bake or pause over, the deployment
 *   pending or progressing), so that consumers can stop sending them requests before their tasks exist;
 * - a failed or lost host stays drained while the deployment is open, as nothing says it serves; once
 *   the deployment ended it is back, as service.yaml says;
 * - succeeded, skipped and cancelled hosts are back.
 * A configuration-only rollout restarts nothing, and drains nothing.
 */
export function drainingHostsOf(
  deployment: DeploymentRecord,
  tasks: ReadonlyMap<string, DeploymentTaskRecord>,
  now: Date,
): Set<string> {
  const draining = new Set<string>();
  if (deployment.configOnly) return draining;
  const open = !isTerminalDeployment(deployment.state);
  for (const task of tasks.values()) {
    if (isActiveTask(task.state) || (open && (task.state === 'pending' || isFailedTask(task.state))))
      draining.add(task.host);
  }
  for (const host of dueStepHosts(deployment, tasks, now)) draining.add(host);
  return draining;
}

/**
 * The hosts of the step due next, once it is due (its bake or pause over, the deployment pending or
 * progressing) and before its tasks exist: those that drain before their deploy, and whose drain the
 * step waits for.
 */
export function dueStepHosts(
  deployment: DeploymentRecord,
  tasks: ReadonlyMap<string, DeploymentTaskRecord>,
  now: Date,
): string[] {
  const step = deployment.plan.steps[deployment.step];
  const due =
    (deployment.state === 'pending' || deployment.state === 'progressing') &&
    deployment.stepStartedAt === undefined &&
    (deployment.nextStepAt === undefined || now.getTime() >= Date.parse(deployment.nextStepAt));
  if (!step || !due || deployment.configOnly) return [];
  return step.hosts.filter((host) => !tasks.has(host) && !deployment.skipped.includes(host));
}
