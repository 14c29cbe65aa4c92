import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { openGitSource } from '../syncer/git/index.js';
import { createBareRepo, createWorkRepo, startGitServerProcess } from '../test/harness/index.js';
import { settingsYaml, writeGeneratedRepo } from './generated-repo.js';
import { type BenchTable, percentile } from './table.js';

const FILES = Number(process.env.CAIRN_BENCH_REPACK_FILES ?? 10_000);
/** One more than the syncer's default limit (50): the clone a repack finds. */
const COMMITS = Number(process.env.CAIRN_BENCH_REPACK_COMMITS ?? 50);
const ROUNDS = Number(process.env.CAIRN_BENCH_REPACK_ROUNDS ?? 3);

/**
 * `npm run bench -- syncer-repack`: the clone's packs on a generated repository. Each round makes
 * COMMITS one-file commits, each fetched into the syncer's clone as a pack of its own, then repacks
 * the clone as the syncer does (`compactPacks`: `git repack -a -d`, in a process of its own): how long
 * git takes, the longest the syncer's event loop was held meanwhile, and what a one-file commit's read
 * of the tree (the diff, then every object it needs) costs before and after.
 */
export async function run(): Promise<BenchTable[]> {
  const server = await startGitServerProcess();
  const cacheDir = await mkdtemp(join(tmpdir(), 'cairn-bench-repack-'));
  try {
    const url = await createBareRepo(server, 'repack');
    const work = await createWorkRepo();
    await writeGeneratedRepo(work, FILES);
    await work.commit('Generated repository');
    await work.push(url);
    const source = openGitSource({ url, branch: 'main', cacheDir, packLimit: COMMITS });
    let head = await source.fetchHead();
    let previous = (await source.readTree(head)).snapshot;
    let revision = 0;
    /** A one-file commit pushed and fetched (a pack more), and the time its tree's read took. */
    const oneFileCommit = async (): Promise<number> => {
      revision++;
      const file = revision % 100;
      await work.write({
        [`services/svc-000/config/module-${String(Math.floor(file / 10)).padStart(2, '0')}/settings-${file}.yaml`]:
          settingsYaml(0, file, revision),
      });
      await work.commit(`Revision ${revision}`);
      await work.push(url);
      head = await source.fetchHead();
      const started = performance.now();
      const { snapshot } = await source.readTree(head, previous);
      await source.commitInfo(head);
      previous = snapshot;
      return performance.now() - started;
    };
    const rows: (string | number)[][] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const reads: number[] = [];
      for (let n = 0; n <= COMMITS; n++) reads.push(await oneFileCommit());
      const packsBefore = await countPacks(cacheDir);
      const loadBefore = loadavg()[0] as number;
      // What the loaded machine alone holds the event loop for, over a second with nothing to do.
      const idle = monitorEventLoopDelay({ resolution: 10 });
      idle.enable();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      idle.disable();
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const started = performance.now();
      const compaction = await source.compactPacks();
      const wall = performance.now() - started;
      delay.disable();
      const after: number[] = [];
      for (let n = 0; n < 5; n++) after.push(await oneFileCommit());
      rows.push([
        round,
        packsBefore,
        compaction?.packsAfter ?? packsBefore,
        Math.round(wall),
        Math.round(delay.max / 1e6),
        Math.round(idle.max / 1e6),
        percentile(reads.slice(-10), 50),
        percentile(after, 50),
        `${loadBefore.toFixed(1)}`,
      ]);
      // What the next round's commits find: the one pack and the five commits' own.
    }
    source.close();
    return [
      {
        title: `the clone's packs: ${FILES.toLocaleString('en-US')} files, a repack after every ${COMMITS + 1} one-file commits`,
        columns: [
          'round',
          'packs before',
          'after',
          'repack (ms)',
          'event loop held, max (ms)',
          'idle 1 s, max (ms)',
          'one-file read, many packs p50 (ms)',
          'one pack p50 (ms)',
          'load (1 min)',
        ],
        rows,
        notes: [
          'repack: compactPacks() as the syncer calls it once commits stop, `git repack -a -d` in a process of its own; the event loop column is the longest the bench process (the syncer) was held meanwhile, beside the longest over a second just before with nothing to do (the machine alone)',
          'one-file read: readTree of a one-file commit against the previous snapshot, then its commitInfo, through the object cache a running syncer keeps (each new pack index parsed once; the repack drops the cache): p50 of the last 10 commits before the repack, and of 5 after it',
        ],
      },
    ];
  } finally {
    await server.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
}

async function countPacks(gitdir: string): Promise<number> {
  return (await readdir(join(gitdir, 'objects', 'pack'))).filter((name) => name.endsWith('.idx')).length;
}
