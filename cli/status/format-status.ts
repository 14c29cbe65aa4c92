import type { CairnStatus } from './read-status.js';

/** The status as a person reads it: the head, the syncers, then one line per instance. */
export function formatStatus(status: CairnStatus): string {
  const lines: string[] = [];
  const head = status.head;
  if (head) {
    lines.push(
      `head     ${head.commit.slice(0, 12)}  ${head.message.split('\n', 1)[0]}  (${head.author.name}, ${head.time})`,
    );
    lines.push(`synced   ${head.syncedAt}${head.forced ? '  after a force-push' : ''}`);
  } else {
    lines.push('head     nothing mirrored yet');
  }
  lines.push(
    `syncers  ${status.syncers.length === 0 ? 'none running' : status.syncers.map((id, i) => (i === 0 ? `${id} (leader)` : id)).join(', ')}`,
  );
  lines.push('');
  const rows: string[][] = [['SERVICE', 'ENV', 'SERVES', 'INSTANCE', 'COMMIT', 'STATE']];
  for (const env of status.environments) {
    const serves = env.serves ? `${env.serves.tag ?? env.serves.commit.slice(0, 12)}` : '-';
    if (env.instances.length === 0) rows.push([env.service, env.env, serves, '(no instances)', '', '']);
    for (const { record, state } of env.instances) {
      const where = `${record.host}${record.port ? `:${record.port}` : ''} pid ${record.pid}`;
      const note = [
        state,
        record.source === 'cache' ? 'from cache' : '',
        record.rejected ? `refused ${record.rejected.commit.slice(0, 12)}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      rows.push([env.service, env.env, serves, where, record.commit?.slice(0, 12) ?? '-', note]);
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
  lines.push(
    '',
    behind === 0 ? 'every instance serves what ZooKeeper holds' : `${behind} instance(s) behind`,
  );
  return `${lines.join('\n')}\n`;
}
