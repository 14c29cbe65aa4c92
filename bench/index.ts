import { type BenchTable, formatTable } from './table.js';

/**
 * `npm run bench`: runs every benchmark against real ZooKeeper servers and git, and prints one
 * table each. Pass names to run some: `npm run bench -- syncer`.
 */
const BENCHES: Record<string, () => Promise<BenchTable[]>> = {
  syncer: async () => (await import('./syncer.bench.js')).run(),
  sdk: async () => (await import('./sdk.bench.js')).run(),
  'sdk-latency': async () => (await import('./sdk.bench.js')).runLatency(),
  'sdk-fanout': async () => (await import('./sdk.bench.js')).runFanOut(),
  'sdk-connect': async () => (await import('./sdk.bench.js')).runConnect(),
  'sdk-wide': async () => (await import('./sdk.bench.js')).runWide(),
  agent: async () => (await import('./agent.bench.js')).run(),
  deploy: async () => (await import('./deploy.bench.js')).run(),
  'syncer-100k': async () => (await import('./syncer.bench.js')).runLarge(),
  'syncer-failover': async () => (await import('./syncer.bench.js')).runFailover(),
  'syncer-repack': async () => (await import('./syncer-repack.js')).run(),
};
const wanted = process.argv.slice(2);
/**
 * Run only when named: a part of another bench (`syncer` measures 100,000 files too, unless
 * CAIRN_BENCH_SKIP_100K=1, and failover).
 */
const ONLY_WHEN_NAMED = new Set([
  'sdk-latency',
  'sdk-fanout',
  'sdk-connect',
  'syncer-100k',
  'syncer-failover',
  'syncer-repack',
]);
for (const [name, run] of Object.entries(BENCHES)) {
  if (wanted.length > 0 ? !wanted.includes(name) : ONLY_WHEN_NAMED.has(name)) continue;
  process.stderr.write(`running ${name} benchmarks…\n`);
  for (const table of await run()) process.stdout.write(`\n${formatTable(table)}`);
}
process.exit(0);
