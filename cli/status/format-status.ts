import type { CairnStatus, DrainedHosts, HostStatus } from '../../core/index.js';
import { escapeControlCharacters } from '../terminal-text.js';

/** A refused commit's first errors; `cairn validate` has the rest. */
const MAX_DIAGNOSTICS_SHOWN = 10;

/** The status as a person reads it: the head, the syncers, then one line per instance. */
export function formatStatus(status: CairnStatus): string {
  const lines: string[] = [];
  const head = status.head;
  if (head) {
    lines.push(
      `head     ${head.commit.slice(0, 12)}  ${escapeControlCharacters(head.message.split('\n', 1)[0] ?? '')}  (${escapeControlCharacters(head.author.name)}, ${escapeControlCharacters(head.time)})`,
    );
    lines.push(`synced   ${head.syncedAt}${head.forced ? '  after a force-push' : ''}`);
  } else {
    lines.push(`head     nothing mirrored under ${status.root}: is the syncer running, and is --root right?`);
  }
  const refused = status.refused;
  if (refused) {
    const what = `${refused.commit.slice(0, 12)}${refused.tag ? ` (tag ${escapeControlCharacters(refused.tag)})` : ''}`;
    lines.push(
      `refused  ${what}  at ${refused.refusedAt}: ${refused.errorCount} error(s), not served: ${head ? `${head.commit.slice(0, 12)} stays live` : 'nothing is served'} until a commit fixes it`,
    );
    for (const d of refused.diagnostics.slice(0, MAX_DIAGNOSTICS_SHOWN))
      lines.push(
        `         ${escapeControlCharacters(d.file)}:${d.line}:${d.column} ${escapeControlCharacters(`${d.rule}: ${d.message}`)}`,
      );
    if (refused.errorCount > MAX_DIAGNOSTICS_SHOWN)
      lines.push(
        `         … and ${refused.errorCount - MAX_DIAGNOSTICS_SHOWN} more: cairn validate on that commit lists them all`,
      );
  }
  lines.push(
    `syncers  ${status.syncers.length === 0 ? 'none running' : status.syncers.map((id, i) => (i === 0 ? `${id} (leader)` : id)).join(', ')}`,
  );
  lines.push('');
  // Instances and agents describe themselves: their cells are escaped like any text not ours.
  const rows: string[][] = [['SERVICE', 'ENV', 'SERVES', 'INSTANCE', 'COMMIT', 'STATE']];
  for (const env of status.environments) {
    const serves = env.serves ? `${env.serves.tag ?? env.serves.commit.slice(0, 12)}` : '-';
    if (env.instances.length === 0)
      rows.push([env.service, env.env, escapeControlCharacters(serves), '(no instances)', '', '']);
    for (const { record, state, heldAt, drained } of env.instances) {
      const where = `${record.host}${record.port ? `:${record.port}` : ''} pid ${record.pid}`;
      const note = [
        state,
        heldAt ? `held at ${heldAt.slice(0, 12)} by the rollout` : '',
        drained ? drainedText(drained) : '',
        record.source === 'cache' ? 'from cache' : '',
        record.rejected ? `refused ${record.rejected.commit.slice(0, 12)}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      rows.push(
        [env.service, env.env, serves, where, record.commit?.slice(0, 12) ?? '-', note].map(
          escapeControlCharacters,
        ),
      );
    }
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  for (const row of rows)
    lines.push(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  const behind = status.environments
    .flatMap((env) => env.instances)
    .filter((i) => i.state === 'behind').length;
  lines.push('', summaryOf(status, behind));
  const managed = status.environments.filter((env) => env.hosts.length > 0);
  if (managed.length > 0) {
    lines.push('', 'HOSTS (files written by agents)');
    for (const env of managed)
      lines.push(`${env.service}/${env.env}  ${escapeControlCharacters(hostSummary(env.hosts))}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The last word: what a person should look at first. */
function summaryOf(status: CairnStatus, behind: number): string {
  if (!status.head) return `nothing is mirrored under ${status.root}`;
  const instances =
    behind === 0 ? 'every instance serves what ZooKeeper holds' : `${behind} instance(s) behind`;
  return status.refused ? `${instances}; the branch's newest commit was refused (above)` : instances;
}

/** "2/3 applied, 1 rejected (edge-01: check exited 1: …), 0 behind", and the hosts without an agent. */
export function hostSummary(hosts: readonly HostStatus[]): string {
  const count = (state: HostStatus['state']) => hosts.filter((h) => h.state === state);
  const applied = count('applied').length;
  const rejected = count('rejected');
  const failed = count('failed');
  const behind = [...count('behind'), ...count('applying')];
  const missing = count('no agent');
  const held = hosts.filter((h) => h.heldAt !== undefined && h.state === 'applied');
  const drained = hosts.filter((h) => h.drained !== undefined && h.state === 'applied');
  const notes = [
    held.length
      ? `${held.length} held at ${[...new Set(held.map((h) => h.heldAt?.slice(0, 12)))].join(', ')} until the rollout reaches them`
      : '',
    drained.length
      ? `${drained.length} with ${[...new Set(drained.map((h) => drainedText(h.drained as DrainedHosts)))].join('; ')}`
      : '',
  ].filter(Boolean);
  const parts = [
    `${applied}/${hosts.length} applied${notes.length ? ` (${notes.join('; ')})` : ''}`,
    `${rejected.length} rejected${rejected.length ? ` (${rejected.map((h) => `${h.host}: ${h.reason}`).join('; ')})` : ''}`,
    `${behind.length} behind`,
  ];
  if (failed.length)
    parts.push(`${failed.length} failing (${failed.map((h) => `${h.host}: ${h.reason}`).join('; ')})`);
  if (missing.length)
    parts.push(`${missing.length} without an agent (${missing.map((h) => h.host).join(', ')})`);
  return parts.join(', ');
}

/** "web-02, web-03 drained for web's deploy", per deploying service. */
function drainedText(drained: DrainedHosts): string {
  return Object.entries(drained)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, hosts]) => `${hosts.join(', ')} drained for ${service}'s deploy`)
    .join('; ');
}
