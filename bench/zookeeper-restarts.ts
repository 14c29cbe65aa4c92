import { runRestartSoak } from '../test/soak/restart-soak.js';
import { formatTable } from './table.js';

/**
 * `npm run soak [-- <restarts> <clients>]`: restarts a real ZooKeeper server (SIGKILL and SIGTERM in
 * turn) under client processes and a writer, 200 times under 20 clients by default, and prints what
 * survived. Exits non-zero when a process crashed or an acknowledged write was lost.
 */
const restarts = Number(process.argv[2] ?? 200);
const clients = Number(process.argv[3] ?? 20);
process.stderr.write(`restarting ZooKeeper ${restarts} times under ${clients} client processes…\n`);
const result = await runRestartSoak({
  restarts,
  clients,
  onRestart: (restart) => {
    if (restart % 10 === 0 || restart === restarts) process.stderr.write(`  ${restart} restarts\n`);
  },
});
const failed =
  result.crashed.length > 0 ||
  result.lost > 0 ||
  result.notMonotonic > 0 ||
  result.regressions.length > 0 ||
  result.behind.length > 0;
process.stdout.write(
  `\n${formatTable({
    title: `ZooKeeper restarts under ${result.clients} client processes`,
    columns: ['measure', 'value'],
    rows: [
      ['restarts (SIGKILL + SIGTERM)', `${result.restarts} (${result.sigkill} + ${result.sigterm})`],
      ['client processes', result.clients],
      ['time', `${(result.durationMs / 1000).toFixed(0)} s`],
      ['crashed processes', result.crashed.length],
      ['acknowledged writes', result.acknowledged],
      ['last acknowledged / final value', `${result.lastAcknowledged} / ${result.finalValue}`],
      ['acknowledged writes lost', result.lost],
      ['acknowledgements out of order', result.notMonotonic],
      ['clients that read a value go back', result.regressions.length],
      ['clients not on the final value', result.behind.length],
    ],
    notes: [
      'Each client follows a counter with a persistent watch and re-reads on every reconnection; the writer increments it with version-checked writes.',
      'Between two restarts the writer must get 3 more writes acknowledged and every client must read one of them.',
      ...result.crashed,
      ...result.regressions,
      ...result.behind,
    ],
  })}`,
);
process.exit(failed ? 1 : 0);
