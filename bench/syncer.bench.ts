import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  desiredStateOf,
  EMPTY_PUBLISHED_STATE,
  FencedWriter,
  planPublication,
  type Revision,
  readRepoDir,
  ZkLayout,
  type ZkOp,
  ZkSession,
} from '../core/index.js';
import { validateRepo } from '../schemas/index.js';
import { DEFAULT_GIT_TIMEOUT_MS, openGitSource } from '../syncer/git/index.js';
import { Mirror, type SyncTarget, type SyncTimings } from '../syncer/mirror.js';
import { openValidationCache } from '../syncer/validation-cache.js';
import { ensureLayout } from '../syncer/zk/bootstrap.js';
import {
  createBareRepo,
  createWorkRepo,
  startGitServerProcess,
  startZooKeeper,
  type WorkRepo,
} from '../test/harness/index.js';
import { benchScriptArgs } from './bench-script.js';
import { cpuProfiler } from './cpu-profile.js';
import { settingsYaml, writeGeneratedRepo } from './generated-repo.js';
import { connectRawClient, createInBatches, everyBlobCommand } from './raw-writes.js';
import { measureFailover } from './syncer-failover.js';
import { type BenchTable, percentile } from './table.js';

/** `CAIRN_BENCH_LOG=warn` (or any pino level) shows the syncer's log on stderr, to see why a measure failed. */
const logger = pino({ level: process.env.CAIRN_BENCH_LOG ?? 'silent' }, pino.destination(2));
const ONE_FILE_COMMITS = 15;
/**
 * The bench's own sessions outlive a starved machine. The syncer's first mirror of 100,000 files runs
 * with the syncer's default (10 s) in a process of its own (bench/syncer-initial-child.ts).
 */
const SESSION_TIMEOUT_MS = 10 * 60_000;
/**
 * Heap of the ZooKeeper servers that hold 100,000 files: each node costs its bytes and about 1 KB
 * more, and the test servers' 256 MB run out before the mirror is done.
 */
const LARGE_SERVER_HEAP_MB = 1536;
/**
 * The syncer's default: it bounds a silence of the server, not a transfer, so a first clone of
 * 100,000 files that takes longer in all is not cut short (what this bench shows).
 */
const GIT_TIMEOUT_MS = DEFAULT_GIT_TIMEOUT_MS;

/** Whole sync restarted, against the raw baseline (issue 13 point 1). */
const RESTART_TARGET = 2;
/**
 * Restarts in a new process, each followed by the raw baseline (a new process too) and the raw
 * floor measured again: on a shared 2-core machine one run's times vary by a third, so the row shows
 * the median of the pairs' ratios, and the notes every pair, each measured under the same
 * conditions. Five pairs: those of one run have spread from 1.56× to 2.03×, which moves a median of three.
 */
const RESTART_RUNS = 5;
/** One-file commit on a large repository, against 100 files (issue 13 point 6). */
const ONE_FILE_TARGET = 1.5;
/** `CAIRN_BENCH_SKIP_100K=1` leaves the 100,000-file repository out of `npm run bench -- syncer`, for a quick run. */
const SKIP_100K = process.env.CAIRN_BENCH_SKIP_100K === '1';

/**
 * The syncer tables: the initial mirror against a raw multi() baseline, the 100,000-file repository
 * (time and peak memory), one-file commits on 100, 10,000 and 100,000 files, and failover.
 */
export async function run(): Promise<BenchTable[]> {
  // A large heap even without 100,000 files: every restart and raw baseline keeps its 10,000 files.
  const zk = await startZooKeeper({ maxSessionTimeout: SESSION_TIMEOUT_MS, heapMb: LARGE_SERVER_HEAP_MB });
  const git = await startGitServerProcess();
  const open: OpenRepo[] = [];
  try {
    const large = await openRepo(zk.connectString, git, 10_000, '/bench-large', {
      restartRuns: RESTART_RUNS,
    });
    open.push(large);
    const small = await openRepo(zk.connectString, git, 100, '/bench-small');
    open.push(small);
    // A failure here (a clone past its deadline, a server out of memory) still prints the rest.
    const huge = SKIP_100K
      ? undefined
      : await openRepo(zk.connectString, git, 100_000, '/bench-huge', {
          withNodes: false,
          coldInChild: true,
        }).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    const hugeOpen = huge instanceof Error ? undefined : huge;
    if (hugeOpen) open.push(hugeOpen);
    const turns = await oneFileCommitsInTurns([small, large, ...(hugeOpen ? [hugeOpen] : [])]);
    const [smallTimes, largeTimes, hugeTimes] = turns.times as [OneFileTimes, OneFileTimes, OneFileTimes?];
    return [
      initialMirrorTable(large.measured),
      ...(hugeOpen ? [hugeRepoTable(hugeOpen.measured)] : []),
      oneFileTable(
        [
          { name: '10,000 files', times: largeTimes },
          ...(hugeTimes ? [{ name: '100,000 files', times: hugeTimes }] : []),
        ],
        smallTimes,
        [
          `Under 100 ms on 10,000 files: ${largeTimes.medianMs < 100 ? 'met' : 'NOT met'}.`,
          ...(huge instanceof Error
            ? [`100,000 files could not be measured: ${huge.message}`]
            : huge
              ? []
              : ['100,000 files left out (CAIRN_BENCH_SKIP_100K=1).']),
          `Load average at the end of the commits: ${turns.load}.`,
        ],
      ),
      // Its own servers: the replicas' session timeout is the syncer's default, not this bench's.
      await measureFailover(),
    ];
  } finally {
    for (const repo of open) await repo.close();
    await git.close();
    await zk.close();
  }
}

function initialMirrorTable(large: RepoMeasurements): BenchTable {
  const pairs = [...large.restarts].sort((a, b) => restartRatio(a) - restartRatio(b));
  const median = pairs[Math.floor(pairs.length / 2)];
  if (!median) throw new Error('the 10,000-file repository was measured without a restart');
  const { child: restart, raw, rawChild } = median;
  const floorMs = median.catFileMs + raw.ms;
  const floorRatios = pairs.map(floorRatio).sort((a, b) => a - b);
  const medianFloorRatio = floorRatios[Math.floor(floorRatios.length / 2)] as number;
  const t = large.initialTimings;
  const writeRatio = t.writeMs / raw.ms;
  return {
    title: 'Syncer: initial mirror of a generated 10,000-file repository',
    columns: ['writer', 'znodes', 'time', 'files/s', 'vs raw baseline', 'target'],
    rows: [
      writerRow(
        'raw baseline: one program in a new process, git cat-file --batch, then multi() batches',
        rawChild.znodes,
        rawChild.ms,
        '1.00x',
      ),
      writerRow('  of which git ls-tree and cat-file --batch, into its memory', '', rawChild.readMs),
      writerRow('  of which raw ZkClient multi() batches', rawChild.znodes, rawChild.writeMs),
      writerRow(
        `cairn sync: whole sync, restarted: a new process (clone and validation cache kept), median of ${pairs.length}`,
        large.nodes.length,
        restart.ms,
        `${restartRatio(median).toFixed(2)}x`,
        checked(restartRatio(median), RESTART_TARGET),
      ),
      writerRow(
        "raw floor, in the bench's process (warm code): git's read to /dev/null, then multi() of bytes in memory",
        raw.znodes,
        floorMs,
        `${(floorMs / rawChild.ms).toFixed(2)}x`,
      ),
      writerRow('  of which git ls-tree and cat-file --batch, to /dev/null', '', median.catFileMs),
      writerRow('  of which raw ZkClient multi() batches', raw.znodes, raw.ms),
      [
        'cairn sync: restarted, against the raw floor (median of the pairs)',
        '',
        '',
        '',
        `${medianFloorRatio.toFixed(2)}x`,
        '',
      ],
      writerRow(
        "cairn sync: whole sync, restarted in the bench's process (warm code, its heap), vs the raw floor",
        large.nodes.length,
        large.initialWarmMs,
        `${(large.initialWarmMs / floorMs).toFixed(2)}x`,
      ),
      writerRow(
        "  of which desired state and publication (vs the raw floor's multi())",
        large.nodes.length,
        t.writeMs,
        `${writeRatio.toFixed(2)}x`,
      ),
      writerRow(
        'cairn sync: whole sync, first clone over HTTP, every file parsed',
        large.nodes.length,
        large.initialColdMs,
        `${(large.initialColdMs / rawChild.ms).toFixed(2)}x`,
      ),
    ],
    notes: [
      `The target compares like with like. A restarted syncer is a new process (\`syncer-initial-child.ts\`: its own small heap and forks, its code not yet compiled), and so is the raw baseline (\`raw-mirror-child.ts\`): it reads every blob of the clone's head with git ls-tree piped to git cat-file --batch into its memory, then writes the syncer's znodes with the raw client's multi(), ~900 KB a batch, one after another: the same blobs, the same bytes, no validation, no plan, no fence.`,
      `${pairs.length} pairs, each a restart followed by both baselines (the machine's speed varies by a third from one run to the next; a pair shares its conditions), as restart vs raw baseline vs raw floor: ${large.restarts.map((pair) => `${ms(pair.child.ms)} vs ${ms(pair.rawChild.ms)} (${restartRatio(pair).toFixed(2)}x) vs ${ms(pair.catFileMs + pair.raw.ms)} (${floorRatio(pair).toFixed(2)}x)`).join('; ')}. The rows above are the median pair's.`,
      `The raw floor is what earlier runs compared with: git's read of every blob to /dev/null (a shell pipeline, nothing in any program's memory) plus the raw client's multi() of bytes already in memory, run in the bench's process, whose code the earlier runs have compiled. No program that reads the blobs and writes them does both at once, so it is a floor, not a baseline: in the median pair, the raw baseline took ${(rawChild.ms / floorMs).toFixed(2)}x it.`,
      `The median restart: open the validation cache ${ms(restart.cacheOpenMs)} (while git is read), fetch ${ms(restart.timings.fetchMs)}, read the tree ${ms(restart.timings.readMs)}, parse and validate every file ${ms(restart.timings.validateMs)} (${restart.filesParsed} files parsed), compute the desired state, plan and publish ${ms(restart.timings.writeMs)}. The same restart in the bench's process follows: its code is compiled by the first sync, but each \`git\` it starts forks the bench's larger heap, and the bench's garbage is collected during it.`,
      `Whole sync, restarted in the bench's process: open the validation cache ${ms(large.initialCacheOpenMs)} (while git is read), fetch ${ms(t.fetchMs)}, read the tree ${ms(t.readMs)}, parse and validate every file ${ms(t.validateMs)} (${large.initialFilesParsed} files parsed: the validation cache knew the rest), compute the desired state, plan and publish ${ms(t.writeMs)} (of which waiting for what ZooKeeper holds, read alongside the fetch and the read of git: ${ms(t.stateMs)}).`,
      'Same znodes and bytes in every writer. The raw writers only read and write; the syncer also validates every file (from its cache when it saw the bytes before), which is what lets it refuse a bad commit.',
      `A restart parses no file: ${large.initialFilesParsed === 0 && large.restarts.every((pair) => pair.child.filesParsed === 0) ? 'met' : 'NOT met'}. The first sync parses every file once (YAML parsing dominates it).`,
      `Load average when measured: ${large.load}.`,
    ],
  };
}

/** A row of the initial mirror's table: a time, and the rate of 10,000 files it makes (none for a part read alone). */
function writerRow(
  label: string,
  znodes: number | '',
  timeMs: number,
  ratio = '',
  target = '',
): (string | number)[] {
  return [
    label,
    znodes,
    ms(timeMs),
    znodes === '' ? '' : Math.round((10_000 / timeMs) * 1000),
    ratio,
    target,
  ];
}

function hugeRepoTable(huge: RepoMeasurements): BenchTable {
  const child = huge.coldChild;
  return {
    title: 'Syncer: a generated 100,000-file repository',
    columns: ['measure', 'value'],
    rows: [
      ['whole sync, first clone over HTTP, every file parsed', ms(huge.initialColdMs)],
      ...(child
        ? [
            ['  of which fetch (the first clone)', ms(child.timings.fetchMs)],
            ['  of which read the tree', ms(child.timings.readMs)],
            ['  of which parse and validate', ms(child.timings.validateMs)],
            ['  of which desired state, plan and publish', ms(child.timings.writeMs)],
            ['  transactions', child.transactions],
            [
              `longest the event loop was held at once (ended ${(child.longestBlockEndedAtMs / 1000).toFixed(1)} s in)`,
              ms(child.longestBlockMs),
            ],
            ['  of which during the fetch (the first clone)', ms(child.longestFetchBlockMs)],
            [
              'peak RSS of the syncer process (first mirror, in a process of its own)',
              `${child.peakRssMb.toFixed(0)} MB`,
            ],
          ]
        : []),
      ['whole sync, restarted (clone and validation cache kept)', ms(huge.initialWarmMs)],
      ['  of which fetch', ms(huge.initialTimings.fetchMs)],
      ['  of which read the tree', ms(huge.initialTimings.readMs)],
      ['  of which validate', ms(huge.initialTimings.validateMs)],
      ['  of which desired state, plan and publish', ms(huge.initialTimings.writeMs)],
      ['files parsed by the restarted sync', huge.initialFilesParsed],
      ...(huge.catFileMs !== undefined
        ? [['git ls-tree and cat-file --batch of every blob', ms(huge.catFileMs)]]
        : []),
    ],
    notes: [
      ...(child
        ? [
            `The first mirror ran in a process of its own (bench/syncer-initial-child.ts: the syncer alone, loaded through tsx), with a session timeout of ${child.sessionTimeoutMs / 1000} s: its session outlived the sync. The syncer's own phases yield every 50 ms, and the clone's pack is indexed by git index-pack in a process of its own as it arrives (isomorphic-git indexed it on the event loop: 11.2 s held at once). The fetch's deadline is the syncer's default, ${GIT_TIMEOUT_MS / 1000} s of silence. Peak RSS is that process's high-water mark (getrusage); git's own processes are not in it. Load average at its end: ${child.load}.`,
          ]
        : []),
      `ZooKeeper servers of ${LARGE_SERVER_HEAP_MB} MB heap. Load average when measured: ${huge.load}.`,
    ],
  };
}

/** One-file commits, each repository's against the 100-file one's, taken in the same turns. */
function oneFileTable(
  repos: readonly { name: string; times: OneFileTimes }[],
  small: OneFileTimes,
  notes: readonly string[],
): BenchTable {
  return {
    title: `Syncer: one-file commit, push to ZooKeeper (median and p90 of ${ONE_FILE_COMMITS} commits)`,
    columns: ['repository', 'median', 'p90', 'ratio to 100 files', 'target'],
    rows: [
      ['100 files', ms(small.medianMs), ms(small.p90Ms), '1.00x', ''],
      ...repos.map(({ name, times }) => {
        const ratio = times.medianMs / small.medianMs;
        return [
          name,
          ms(times.medianMs),
          ms(times.p90Ms),
          `${ratio.toFixed(2)}x`,
          checked(ratio, ONE_FILE_TARGET),
        ];
      }),
    ],
    notes: [
      'Timed from the end of `git push` to /head naming the commit: fetch over HTTP, tree diff, validation, one multi().',
      'The repositories take turns, one commit on each, then the next round: the machine drifts from one minute to the next, and the ratio compares sizes, not minutes.',
      ...notes,
    ],
  };
}

/** A ratio against its target, as a cell: `≤ 2.00x: met`. */
function checked(ratio: number, target: number): string {
  return `≤ ${target.toFixed(2)}x: ${ratio <= target ? 'met' : 'NOT met'}`;
}

/** `npm run bench -- syncer-failover`: the failover table alone. */
export async function runFailover(): Promise<BenchTable[]> {
  return [await measureFailover()];
}

/** A repository mirrored, its mirror kept open for one-file commits taken in turns with others'. */
interface OpenRepo {
  readonly measured: RepoMeasurements;
  /** Pushes commit `i`, one file changed, and mirrors it: the time from the push's end to /head. */
  oneFileCommit(i: number): Promise<number>;
  close(): Promise<void>;
}

interface OneFileTimes {
  readonly medianMs: number;
  readonly p90Ms: number;
}

interface RepoMeasurements {
  /** Every znode the mirror of the head holds, with its data: content, pointers, records. */
  readonly nodes: readonly (readonly [string, Uint8Array])[];
  readonly initialColdMs: number;
  readonly initialWarmMs: number;
  readonly initialTimings: SyncTimings;
  /** Files the warm initial mirror parsed: 0 when the validation cache knew every one. */
  readonly initialFilesParsed: number;
  /**
   * `git ls-tree -r` and `git cat-file --batch` of every blob of the head, in the clone; not measured
   * where restart pairs measure it beside each restart.
   */
  readonly catFileMs?: number;
  /** Opening the validation cache file, while the restarted sync reads git. */
  readonly initialCacheOpenMs: number;
  /** The first mirror run in a process of its own (the 100,000-file repository). */
  readonly coldChild?: ChildMirror;
  /**
   * Restarts run in a process of their own, as a restarted syncer is, each with the raw baseline
   * measured right after it (the 10,000-file repository).
   */
  readonly restarts: readonly RestartPair[];
  /** The machine's load average (1, 5 and 15 minutes) when they were done. */
  readonly load: string;
}

/** A restart in a new process, and the raw baselines measured right after it. */
interface RestartPair {
  readonly child: ChildMirror;
  readonly catFileMs: number;
  readonly raw: { readonly ms: number; readonly znodes: number };
  /** The raw baseline as one program in a new process, as the restart is (bench/raw-mirror-child.ts). */
  readonly rawChild: RawChildMirror;
}

/** What bench/raw-mirror-child.ts prints. */
interface RawChildMirror {
  readonly ms: number;
  readonly readMs: number;
  readonly writeMs: number;
  readonly znodes: number;
}

/** The restart against the raw baseline of its pair, both new processes: the target's ratio. */
function restartRatio(pair: RestartPair): number {
  return pair.child.ms / pair.rawChild.ms;
}

/** The restart against the raw floor of its pair (see initialMirrorTable's notes). */
function floorRatio(pair: RestartPair): number {
  return pair.child.ms / (pair.catFileMs + pair.raw.ms);
}

/** What bench/syncer-initial-child.ts prints. */
interface ChildMirror {
  readonly ms: number;
  readonly timings: SyncTimings;
  readonly filesParsed: number;
  readonly transactions: number;
  readonly sessionTimeoutMs: number;
  /** The longest the child's event loop was held at once. */
  readonly longestBlockMs: number;
  /** The same, while the first clone was fetched. */
  readonly longestFetchBlockMs: number;
  /** When the longest hold ended, from the sync's start. */
  readonly longestBlockEndedAtMs: number;
  /** When the validation cache was open, from the sync's start (it opens while git is read). */
  readonly cacheOpenMs: number;
  readonly peakRssMb: number;
  readonly load: string;
}

/** A syncer's mirror in a process of its own (bench/syncer-initial-child.ts): a first one, or a restart. */
function mirrorInChild(
  connectString: string,
  url: string,
  root: string,
  cacheDir: string,
): Promise<ChildMirror> {
  // With CAIRN_BENCH_CPU_PROF, the child's whole run is profiled, in a folder of that one named
  // after the root (`mirror-bench-large-restart/`: one profile per thread, the main one the largest).
  const profileDir = process.env.CAIRN_BENCH_CPU_PROF;
  const profile = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, `mirror${root.replaceAll('/', '-')}`)}`]
    : [];
  const child = spawn(
    process.execPath,
    [
      ...profile,
      ...benchScriptArgs('syncer-initial-child.ts'),
      connectString,
      url,
      root,
      cacheDir,
      String(GIT_TIMEOUT_MS),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    output += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0)
        return reject(
          new Error(`the syncer's mirror in a process of its own exited with ${code}: ${output.trim()}`),
        );
      resolve(JSON.parse(output.trim()) as ChildMirror);
    });
  });
}

/**
 * Mirrors a generated repository of `fileCount` files (first, then restarted; see the tables) and
 * keeps its mirror open for one-file commits; the caller closes it.
 */
async function openRepo(
  connectString: string,
  git: Awaited<ReturnType<typeof startGitServerProcess>>,
  fileCount: number,
  root: string,
  options: { withNodes?: boolean; coldInChild?: boolean; restartRuns?: number } = {},
): Promise<OpenRepo> {
  const url = await createBareRepo(git, `generated-${fileCount}`);
  const work = await createWorkRepo();
  await writeGeneratedRepo(work, fileCount);
  await work.commit(`Generate ${fileCount} files`);
  await work.push(url);
  const connect = async (servers: string) => {
    const session = await ZkSession.connect({ connectString: servers, sessionTimeoutMs: SESSION_TIMEOUT_MS });
    const fence = await session.create('/bench-fence-', new Uint8Array(0), 'ephemeral-sequential');
    const target: SyncTarget = {
      session,
      writer: new FencedWriter(session, () => ({ op: 'check', path: fence, version: 0 })),
      term: 1,
    };
    return target;
  };
  const target = await connect(connectString);
  const { session } = target;
  let coldZk: Awaited<ReturnType<typeof startZooKeeper>> | undefined;
  const cacheDir = await mkdtemp(join(tmpdir(), 'cairn-bench-'));
  try {
    // Cold: first clone and first mirror. With `coldInChild`, by a syncer process of its own into a
    // server of its own, dropped after: the main server need not hold two mirrors of its files.
    let started = performance.now();
    let initialColdMs: number;
    let coldChild: ChildMirror | undefined;
    if (options.coldInChild) {
      coldZk = await startZooKeeper({ maxSessionTimeout: SESSION_TIMEOUT_MS, heapMb: LARGE_SERVER_HEAP_MB });
      coldChild = await mirrorInChild(coldZk.connectString, url, `${root}-cold`, cacheDir);
      initialColdMs = coldChild.ms;
      await coldZk.close();
      coldZk = undefined;
    } else {
      const coldLayout = new ZkLayout(`${root}-cold`);
      await ensureLayout(session, coldLayout);
      const coldSource = openGitSource({ url, branch: 'main', cacheDir, timeoutMs: GIT_TIMEOUT_MS });
      await new Mirror({
        layout: coldLayout,
        source: coldSource,
        branch: 'main',
        logger,
        validationCache: await openValidationCache(cacheDir, logger),
      }).sync(target);
      initialColdMs = performance.now() - started;
      coldSource.close();
    }
    // The baseline reads the very blobs the syncer read, from the same clone, with git's own reader.
    const catFileMs = options.restartRuns ? undefined : await readWithCatFile(cacheDir);

    // Warm: a restarted syncer (the clone and the validation cache kept) mirrors into an empty root.
    const layout = new ZkLayout(root);
    await ensureLayout(session, layout);
    const source = openGitSource({ url, branch: 'main', cacheDir, timeoutMs: GIT_TIMEOUT_MS });
    // With CAIRN_BENCH_CPU_PROF, the restarted sync and the one-file passes are profiled, per
    // repository size.
    const profiler = await cpuProfiler();
    await profiler.start();
    started = performance.now();
    // Handed over while it opens, as the syncer does: git is read meanwhile.
    let initialCacheOpenMs = 0;
    const validationCache = openValidationCache(cacheDir, logger).then((cache) => {
      initialCacheOpenMs = performance.now() - started;
      return cache;
    });
    const mirror = new Mirror({ layout, source, branch: 'main', logger, validationCache });
    const initial = await mirror.sync(target);
    const initialWarmMs = performance.now() - started;
    await profiler.stop(`restart-${fileCount}`);
    if (initial.kind !== 'mirrored')
      throw new Error(`the generated repository was not mirrored: ${initial.kind}`);

    // A restarted syncer is a new process, with the clone and the validation cache kept: each
    // mirrors into an empty root of its own, and the raw baseline writes the same nodes right after.
    // After the restart in this process, which is compared with the figures of earlier runs.
    const nodes = options.withNodes === false ? [] : await nodesFor(work, new ZkLayout(root));
    const restarts: RestartPair[] = [];
    const spec = options.restartRuns ? await writeRawMirrorSpec(cacheDir, nodes, root) : undefined;
    for (let run = 1; run <= (options.restartRuns ?? 0); run++) {
      const child = await mirrorInChild(connectString, url, `${root}-restart-${run}`, cacheDir);
      const rawChild = await rawMirrorInChild(
        connectString,
        cacheDir,
        spec as string,
        `${root}-raw-child-${run}`,
      );
      const raw = await rawBaseline(connectString, nodes, root, `${root}-raw-${run}`);
      restarts.push({ child, catFileMs: await readWithCatFile(cacheDir), raw, rawChild });
    }

    profiler.close();
    const measured: RepoMeasurements = {
      nodes,
      initialColdMs,
      initialWarmMs,
      initialTimings: initial.timings,
      initialFilesParsed: initial.filesParsed,
      ...(catFileMs !== undefined ? { catFileMs } : {}),
      initialCacheOpenMs,
      ...(coldChild ? { coldChild } : {}),
      restarts,
      load: loadNow(),
    };
    return {
      measured,
      async oneFileCommit(i: number): Promise<number> {
        const file = (i * 37) % fileCount;
        const service = Math.floor(file / 100);
        const path = `services/svc-${String(service).padStart(3, '0')}/config/module-${String(Math.floor((file % 100) / 10)).padStart(2, '0')}/settings-${file % 100}.yaml`;
        await work.write({ [path]: settingsYaml(service, file % 100, i) });
        await work.commit(`Revision ${i}`);
        await work.push(url);
        const started = performance.now();
        const outcome = await mirror.sync(target);
        const elapsed = performance.now() - started;
        if (outcome.kind !== 'mirrored') throw new Error(`commit ${i} was not mirrored: ${outcome.kind}`);
        return elapsed;
      },
      async close() {
        source.close();
        await session.close();
        await rm(cacheDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await session.close();
    await rm(cacheDir, { recursive: true, force: true });
    throw error;
  } finally {
    await coldZk?.close();
  }
}

/**
 * One-file commits on every repository in turns: one on each, then the next round. The machine's
 * speed drifts by a third from one minute to the next; measured one repository after the other, the
 * ratio compared two minutes as much as two sizes. With CAIRN_BENCH_CPU_PROF, profiled as `one-file`.
 */
async function oneFileCommitsInTurns(
  repos: readonly OpenRepo[],
): Promise<{ times: OneFileTimes[]; load: string }> {
  const samples = repos.map((): number[] => []);
  const profiler = await cpuProfiler();
  await profiler.start();
  for (let i = 1; i <= ONE_FILE_COMMITS; i++) {
    for (const [n, repo] of repos.entries()) samples[n]?.push(await repo.oneFileCommit(i));
  }
  await profiler.stop('one-file');
  profiler.close();
  return {
    times: samples.map((taken) => ({ medianMs: percentile(taken, 50), p90Ms: percentile(taken, 90) })),
    load: loadNow(),
  };
}

function loadNow(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}

async function nodesFor(work: WorkRepo, layout: ZkLayout): Promise<[string, Uint8Array][]> {
  const { tree } = await readRepoDir(work.dir);
  const revision: Revision = {
    commit: '0'.repeat(40),
    author: { name: '', email: '' },
    message: '',
    time: '',
  };
  const desired = desiredStateOf({
    branch: { name: 'main', repo: validateRepo(tree).repo, revision },
    tagged: new Map(),
  });
  const { stage, flip } = planPublication(layout, EMPTY_PUBLISHED_STATE, desired);
  return [...stage, ...flip].flatMap((op: ZkOp) =>
    op.op === 'create' ? [[op.path, op.data ?? new Uint8Array(0)] as [string, Uint8Array]] : [],
  );
}

/** The same znodes and bytes, read from under `nodesRoot`, written under `root` with the raw client's multi() (no ZkSession, no deadlines), in ~900 KB batches. */
async function rawBaseline(
  connectString: string,
  nodes: readonly (readonly [string, Uint8Array])[],
  nodesRoot: string,
  root: string,
): Promise<{ ms: number; znodes: number }> {
  const client = await connectRawClient(connectString);
  const entries = nodes.map(([path, data]) => [root + path.slice(nodesRoot.length), data] as const);
  for (const path of [root, ...new ZkLayout(root).fixedFolders()]) await client.create(path);
  const started = performance.now();
  const znodes = await createInBatches(client, entries);
  const ms = performance.now() - started;
  await client.close();
  return { ms, znodes };
}

/**
 * The spec bench/raw-mirror-child.ts writes from: the syncer's znodes under `root` (relative to it),
 * each content node named by the blob it holds, the others with their bytes. Written in the cache
 * directory, which the bench removes.
 */
async function writeRawMirrorSpec(
  cacheDir: string,
  nodes: readonly (readonly [string, Uint8Array])[],
  root: string,
): Promise<string> {
  const listing = await new Promise<string>((resolve, reject) =>
    execFile(
      'git',
      ['--git-dir', cacheDir, 'ls-tree', '-r', 'refs/remotes/origin/main'],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => (error ? reject(error) : resolve(stdout)),
    ),
  );
  const blobs = new Set(listing.split('\n').map((line) => line.split(/\s+/)[2]));
  const specNodes = nodes.map(([path, data]) => {
    const id = path.slice(path.lastIndexOf('/') + 1);
    return [
      path.slice(root.length),
      blobs.has(id) ? { oid: id } : { base64: Buffer.from(data).toString('base64') },
    ] as const;
  });
  const folders = new ZkLayout(root).fixedFolders().map((folder) => folder.slice(root.length));
  const file = join(cacheDir, 'raw-mirror-spec.json');
  await writeFile(file, JSON.stringify({ folders, nodes: specNodes }));
  return file;
}

/** The raw baseline as one program in a process of its own (bench/raw-mirror-child.ts). */
function rawMirrorInChild(
  connectString: string,
  cacheDir: string,
  spec: string,
  root: string,
): Promise<RawChildMirror> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [...benchScriptArgs('raw-mirror-child.ts'), connectString, cacheDir, spec, root],
      (error, stdout, stderr) =>
        error
          ? reject(
              new Error(`the raw baseline in a process of its own failed: ${stderr.trim() || error.message}`),
            )
          : resolve(JSON.parse(stdout.trim()) as RawChildMirror),
    ),
  );
}

/** Reads every blob of the clone's head the way the raw baseline does: git ls-tree piped to git cat-file --batch. */
async function readWithCatFile(gitdir: string): Promise<number> {
  const started = performance.now();
  const [command, args] = everyBlobCommand(gitdir);
  await new Promise<void>((resolve, reject) =>
    spawn(command, args, { stdio: 'ignore' })
      .once('error', reject)
      .once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}`)))),
  );
  return performance.now() - started;
}

function ms(value: number): string {
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ms`;
}

/**
 * `npm run bench -- syncer-100k`: the 100,000-file repository alone (time, peak memory) and its
 * one-file commits against the 100-file case measured in the same run.
 */
export async function runLarge(): Promise<BenchTable[]> {
  const zk = await startZooKeeper({ maxSessionTimeout: SESSION_TIMEOUT_MS, heapMb: LARGE_SERVER_HEAP_MB });
  const git = await startGitServerProcess();
  const open: OpenRepo[] = [];
  try {
    const small = await openRepo(zk.connectString, git, 100, '/bench-small', { withNodes: false });
    open.push(small);
    const huge = await openRepo(zk.connectString, git, 100_000, '/bench-huge', {
      withNodes: false,
      coldInChild: true,
    });
    open.push(huge);
    const turns = await oneFileCommitsInTurns([small, huge]);
    const [smallTimes, hugeTimes] = turns.times as [OneFileTimes, OneFileTimes];
    return [
      hugeRepoTable(huge.measured),
      oneFileTable([{ name: '100,000 files', times: hugeTimes }], smallTimes, [
        `Load average at the end of the commits: ${turns.load}.`,
      ]),
    ];
  } finally {
    for (const repo of open) await repo.close();
    await git.close();
    await zk.close();
  }
}
