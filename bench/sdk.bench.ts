import { createHmac, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import {
  decodeEnvironmentManifest,
  decodeEnvironmentPointer,
  decodeHeadRecord,
  ZkSession,
} from '../core/index.js';
import { connect, type ServiceConfig } from '../sdk/index.js';
import { resolveSyncerConfig, SyncerDaemon, type SyncTimings } from '../syncer/index.js';
import { waitFor } from '../test/harness/index.js';
import { largeChange } from '../test/support/large-change.js';
import { lastRequestIds } from '../test/support/server-sessions.js';
import { type SyncerFixture, startSyncerFixture } from '../test/support/syncer-fixture.js';
import { type BenchTable, percentile } from './table.js';

const COMMITS = 200;
const WARMUP_COMMITS = 5;
const CLIENTS = 1_000;
/** Clients of other services, connected while the fan-out runs: none of them may read anything. */
const BYSTANDERS = 4_000;
const BYSTANDER_ENVIRONMENTS = [
  ['search-api', 'dev'],
  ['edge-gateway', 'dev'],
  ['nightly-reports', 'dev'],
  ['search-api', 'staging'],
] as const;
const LARGE_FILES = 5_000;
const CONNECT_SAMPLES = 10;
const FAN_OUT_ROUNDS = 5;
const CONNECT_BATCH = 50;
const SECRET = 'sdk-bench-secret';
const BENCH_FILE = 'bench.yaml';
const BENCH_PATH = `services/recommender/config/${BENCH_FILE}`;

/**
 * The SDK table: merge-to-callback latency through the real syncer daemon (push webhook → git fetch →
 * validate → ZooKeeper transaction → watch → consistent read → callback), fan-out of one change to
 * 1,000 clients on 1,000 sessions, and the memory each connected client costs.
 */
export async function run(): Promise<BenchTable[]> {
  const gc = exposeGc();
  const syncTimings = timingsRecorder();
  const f = await startSyncerFixture();
  const scratch = await mkdtemp(join(tmpdir(), 'cairn-sdk-bench-'));
  const daemon = new SyncerDaemon(
    resolveSyncerConfig(
      {
        repo: f.repoUrl,
        zk: f.zk.connectString,
        listen: '127.0.0.1:0',
        webhookSecret: SECRET,
        poll: '1h',
        cacheDir: join(scratch, 'syncer'),
      },
      {},
      { hostname: 'bench', pid: process.pid },
    ),
    syncTimings.logger,
  );
  const { port } = await daemon.start();
  const webhook = `http://127.0.0.1:${port}/webhook`;
  const observer = await HeadObserver.start(f);
  try {
    await f.work.write({ [BENCH_PATH]: 'n: 0\n' });
    await f.work.commit('Add the bench file');
    await f.work.push(f.repoUrl);
    await postPush(webhook, await f.work.head());
    await waitFor(async () => (await observer.headCommit()) === (await f.work.head()), {
      description: 'the syncer to mirror the first commit',
      timeoutMs: 60_000,
    });
    syncTimings.taken.length = 0;
    const latency = await measureLatency(f, webhook, observer);
    const phases = syncTimings.taken.slice(WARMUP_COMMITS);
    const fanOut = await measureFanOut(f, webhook, observer, scratch, gc);
    const connects = await measureConnect(f, webhook, observer, scratch);
    return tables(latency, phases, fanOut, connects, gc !== undefined);
  } finally {
    observer.close();
    await daemon.close();
    await f.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

interface Latency {
  readonly total: number[];
  /** Webhook POSTed → /head's watch fired. */
  readonly toHead: number[];
  readonly afterHead: number[];
}

/**
 * A logger for the syncer daemon that keeps the phase timings of each mirrored commit (its
 * "commit mirrored" line) and drops everything else: where a commit's time goes inside the syncer.
 */
function timingsRecorder(): { logger: pino.Logger; taken: SyncTimings[] } {
  const taken: SyncTimings[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.includes('"commit mirrored"')) continue;
        const { timings } = JSON.parse(line) as { timings?: SyncTimings };
        if (timings) taken.push(timings);
      }
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), taken };
}

async function measureLatency(f: SyncerFixture, webhook: string, observer: HeadObserver): Promise<Latency> {
  const config = await connect({
    zk: f.zk.connectString,
    service: 'recommender',
    env: 'dev',
    instance: { host: 'bench-latency' },
  });
  const total: number[] = [];
  const toHead: number[] = [];
  const afterHead: number[] = [];
  try {
    for (let n = 1; n <= WARMUP_COMMITS + COMMITS; n++) {
      await f.work.write({ [BENCH_PATH]: `n: ${n}\n` });
      const commit = await f.work.commit(`Bench commit ${n}`);
      await f.work.push(f.repoUrl);
      const delivered = callbackFor(config, n);
      const headWritten = observer.next(commit);
      const started = performance.now();
      await postPush(webhook, commit);
      const at = await delivered;
      const head = await headWritten;
      if (n > WARMUP_COMMITS) {
        total.push(at - started);
        toHead.push(head - started);
        afterHead.push(at - head);
      }
    }
  } finally {
    await config.close();
  }
  return { total, toHead, afterHead };
}

interface FanOutRound {
  /** When each client's callback ran, from the webhook. */
  readonly sinceWebhook: number[];
  readonly lastAfterHead: number;
}

interface FanOut {
  readonly connectMs: number;
  readonly rounds: readonly FanOutRound[];
  /** Requests the bystanders' sessions sent while the rounds ran, by the server's count. */
  readonly bystanderRequests: bigint;
  readonly heapPerClient: number;
  readonly rssPerClient: number;
}

async function measureFanOut(
  f: SyncerFixture,
  webhook: string,
  observer: HeadObserver,
  scratch: string,
  gc: (() => void) | undefined,
): Promise<FanOut> {
  const before = memory(gc);
  const clients: ServiceConfig[] = [];
  const bystanders: ServiceConfig[] = [];
  const connectStarted = performance.now();
  try {
    for (let i = 0; i < CLIENTS; i += CONNECT_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(CONNECT_BATCH, CLIENTS - i) }, (_, j) =>
          connect({
            zk: f.zk.connectString,
            service: 'recommender',
            env: 'dev',
            cacheDir: join(scratch, 'clients', String(i + j)),
            instance: { host: `bench-${i + j}` },
          }),
        ),
      );
      clients.push(...batch);
    }
    const connectMs = performance.now() - connectStarted;
    // Let cache writes and registrations settle before weighing.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const after = memory(gc);
    const sessionsBefore = new Set((await lastRequestIds(f.zk.port)).keys());
    for (let i = 0; i < BYSTANDERS; i += CONNECT_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(CONNECT_BATCH, BYSTANDERS - i) }, (_, j) => {
          const [service, env] = BYSTANDER_ENVIRONMENTS[(i + j) % BYSTANDER_ENVIRONMENTS.length] as readonly [
            string,
            string,
          ];
          return connect({ zk: f.zk.connectString, service, env, instance: false });
        }),
      );
      bystanders.push(...batch);
    }
    const bystanderSessions = [...(await lastRequestIds(f.zk.port))].filter(
      ([sid]) => !sessionsBefore.has(sid),
    );

    const rounds: FanOutRound[] = [];
    for (let round = 1; round <= FAN_OUT_ROUNDS; round++) {
      const n = WARMUP_COMMITS + COMMITS + round;
      await f.work.write({ [BENCH_PATH]: `n: ${n}\n` });
      const commit = await f.work.commit(`One change for every client (${round})`);
      await f.work.push(f.repoUrl);
      const deliveries = clients.map((client) => callbackFor(client, n, 30_000));
      const headWritten = observer.next(commit);
      const started = performance.now();
      await postPush(webhook, commit);
      const times = await Promise.all(deliveries);
      const head = await headWritten;
      rounds.push({
        sinceWebhook: times.map((at) => at - started),
        lastAfterHead: Math.max(...times) - head,
      });
      // Registrations and cache writes that follow each delivery finish before the next round.
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    const requestsAfter = await lastRequestIds(f.zk.port);
    let bystanderRequests = 0n;
    for (const [sid, lcxid] of bystanderSessions)
      bystanderRequests += (requestsAfter.get(sid) ?? lcxid) - lcxid;
    return {
      connectMs,
      rounds,
      bystanderRequests,
      heapPerClient: (after.heapUsed - before.heapUsed) / CLIENTS,
      rssPerClient: (after.rss - before.rss) / CLIENTS,
    };
  } finally {
    const all = [...clients, ...bystanders];
    for (let i = 0; i < all.length; i += CONNECT_BATCH)
      await Promise.all(all.slice(i, i + CONNECT_BATCH).map((client) => client.close()));
  }
}

interface Connects {
  /** connect() to the large environment, from ZooKeeper: a new session, the pointer, manifest and every file. */
  readonly fromZooKeeper: number[];
  /** The same reads done raw, in parallel, on a new session: what connect() is compared with. */
  readonly raw: number[];
  /** connect() with a warm cache of the same snapshot. */
  readonly fromCache: number[];
}

/** connect() to an environment of 5,000 files, against raw parallel reads of the same nodes. */
async function measureConnect(
  f: SyncerFixture,
  webhook: string,
  observer: HeadObserver,
  scratch: string,
): Promise<Connects> {
  await f.work.write(largeChange(LARGE_FILES, 'connect'));
  const commit = await f.work.commit(`Add ${LARGE_FILES} synonym files`);
  await f.work.push(f.repoUrl);
  const mirrored = observer.next(commit);
  await postPush(webhook, commit);
  await mirrored;
  const options = { zk: f.zk.connectString, service: 'search-api', env: 'dev', instance: false } as const;
  const fromZooKeeper: number[] = [];
  const raw: number[] = [];
  const fromCache: number[] = [];
  const cacheDir = join(scratch, 'connect-cache');
  await (await connect({ ...options, cacheDir })).close();
  for (let i = 0; i < CONNECT_SAMPLES; i++) {
    let started = performance.now();
    const config = await connect(options);
    fromZooKeeper.push(performance.now() - started);
    if (config.files().length < LARGE_FILES) throw new Error(`expected ${LARGE_FILES} files`);
    await config.close();

    started = performance.now();
    const session = await ZkSession.connect({ connectString: f.zk.connectString });
    const pointer = decodeEnvironmentPointer(
      (await session.get(f.layout.environment('search-api', 'dev'))).data,
    );
    const manifest = decodeEnvironmentManifest((await session.get(f.layout.content(pointer.manifest))).data);
    await Promise.all([...manifest.files.values()].map((id) => session.get(f.layout.content(id))));
    raw.push(performance.now() - started);
    await session.close();

    started = performance.now();
    const cached = await connect({ ...options, cacheDir });
    fromCache.push(performance.now() - started);
    await cached.close();
  }
  return { fromZooKeeper, raw, fromCache };
}

function tables(
  latency: Latency,
  phases: readonly SyncTimings[],
  fanOut: FanOut,
  connects: Connects,
  exactGc: boolean,
): BenchTable[] {
  const row = (label: string, values: number[]): string[] => [
    label,
    ms(percentile(values, 50)),
    ms(percentile(values, 99)),
    ms(Math.max(...values)),
  ];
  const phase = (pick: (t: SyncTimings) => number) => phases.map(pick);
  const inSyncer = phases.map((t) => t.fetchMs + t.readAndValidateMs + t.writeMs);
  const p99 = percentile(latency.total, 99);
  const lasts = fanOut.rounds.map((round) => Math.max(...round.sinceWebhook));
  const medianLast = percentile(lasts, 50);
  const across = (pick: (round: FanOutRound) => number): [string, string] => {
    const values = fanOut.rounds.map(pick);
    return [ms(percentile(values, 50)), ms(Math.max(...values))];
  };
  return [
    {
      title: `SDK: merge-to-callback latency (${COMMITS} commits, one at a time)`,
      columns: ['from', 'p50', 'p99', 'max'],
      rows: [
        [
          'push webhook POSTed to the syncer',
          ms(percentile(latency.total, 50)),
          ms(p99),
          ms(Math.max(...latency.total)),
        ],
        row('/head written in ZooKeeper (a watch on it fired)', latency.afterHead),
        row('  where it goes: webhook → /head written', latency.toHead),
        row(
          '    syncer: git fetch',
          phase((t) => t.fetchMs),
        ),
        row(
          '    syncer: read and validate the commit',
          phase((t) => t.readAndValidateMs),
        ),
        row(
          '    syncer: plan and ZooKeeper write',
          phase((t) => t.writeMs),
        ),
        // One "commit mirrored" line per commit, in order: otherwise the rest cannot be told apart.
        ...(inSyncer.length === latency.toHead.length
          ? [
              row(
                '    the rest: webhook handling, scheduling, the /head watch',
                latency.toHead.map((value, i) => value - (inSyncer[i] as number)),
              ),
            ]
          : []),
      ],
      notes: [
        'Real syncer daemon (webhook, git fetch over HTTP from git http-backend, validation, one multi()), real ZooKeeper, one SDK client watching the changed file.',
        'The second row is the SDK alone: the pointer’s watch fired → read the pointer, the manifest and the changed file → callback.',
        `Target: p99 under 250 ms. ${p99 < 250 ? 'Met' : 'NOT met'}.`,
      ],
    },
    {
      title: `SDK: one change to ${CLIENTS.toLocaleString('en-US')} clients on ${CLIENTS.toLocaleString('en-US')} sessions (${FAN_OUT_ROUNDS} changes)`,
      columns: ['measure', 'median of changes', 'worst change'],
      rows: [
        ['webhook → first callback', ...across((r) => Math.min(...r.sinceWebhook))],
        ['webhook → median callback', ...across((r) => percentile(r.sinceWebhook, 50))],
        ['webhook → p99 callback', ...across((r) => percentile(r.sinceWebhook, 99))],
        ['webhook → last callback', ...across((r) => Math.max(...r.sinceWebhook))],
        ['/head written → last callback', ...across((r) => r.lastAfterHead)],
      ],
      notes: [
        `All clients in this one process (with the syncer daemon), each with its own ZooKeeper session, instance registration and cache directory; per commit every client reads its pointer, the new manifest and the changed file. ${BYSTANDERS.toLocaleString('en-US')} clients of other services (${BYSTANDER_ENVIRONMENTS.map(([s, e]) => `${s}/${e}`).join(', ')}) are connected meanwhile.`,
        `Requests sent by those ${BYSTANDERS.toLocaleString('en-US')} clients during the ${FAN_OUT_ROUNDS} changes, by the server's count (\`cons\`): ${fanOut.bystanderRequests} (must be 0: ${fanOut.bystanderRequests === 0n ? 'met' : 'NOT met'}).`,
        `Target: last callback under 2 s. ${medianLast < 2000 ? 'Met' : 'NOT met'} (median of the changes; worst ${ms(Math.max(...lasts))}).`,
      ],
    },
    {
      title: `SDK: connect() to an environment of ${LARGE_FILES.toLocaleString('en-US')} files (${CONNECT_SAMPLES} connects)`,
      columns: ['how', 'median', 'max', 'vs raw reads'],
      rows: [
        [
          'raw: new session, then every node read in parallel',
          ms(percentile(connects.raw, 50)),
          ms(Math.max(...connects.raw)),
          '1.00x',
        ],
        [
          'connect(), from ZooKeeper',
          ms(percentile(connects.fromZooKeeper, 50)),
          ms(Math.max(...connects.fromZooKeeper)),
          `${(percentile(connects.fromZooKeeper, 50) / percentile(connects.raw, 50)).toFixed(2)}x`,
        ],
        [
          'connect(), warm cache of the same snapshot',
          ms(percentile(connects.fromCache, 50)),
          ms(Math.max(...connects.fromCache)),
          `${(percentile(connects.fromCache, 50) / percentile(connects.raw, 50)).toFixed(2)}x`,
        ],
      ],
      notes: [
        'The raw row opens a session, reads the pointer and the manifest, then every content node at once: the nodes connect() reads, without its checks, parsing, change detection or events.',
        'A client with a warm cache reads the pointer and manifest, and no content it holds.',
      ],
    },
    {
      title: 'SDK: cost of a connected client',
      columns: ['measure', 'value'],
      rows: [
        [
          `connect ${CLIENTS.toLocaleString('en-US')} clients, ${CONNECT_BATCH} at a time`,
          ms(fanOut.connectMs),
        ],
        ['heap per connected client', kb(fanOut.heapPerClient)],
        // RSS can shrink while clients connect (the allocator returns memory): then it says nothing.
        [
          'RSS per connected client',
          fanOut.rssPerClient > 0 ? kb(fanOut.rssPerClient) : 'not measurable (RSS shrank)',
        ],
      ],
      notes: [
        exactGc
          ? 'heapUsed and RSS after a forced GC, before and after connecting, divided by the number of clients; RSS includes socket buffers.'
          : 'GC could not be forced, so the heap figure includes garbage and is an upper estimate.',
      ],
    },
  ];
}

/** Records when each commit's `/head` write was seen, through a watch like a client's own. */
class HeadObserver {
  private readonly waiters = new Map<string, (at: number) => void>();
  private readonly seen = new Map<string, number>();
  private closed = false;

  private constructor(
    private readonly session: ZkSession,
    private readonly path: string,
  ) {}

  static async start(f: SyncerFixture): Promise<HeadObserver> {
    const session = await ZkSession.connect({ connectString: f.zk.connectString });
    const observer = new HeadObserver(session, f.layout.head());
    await observer.arm();
    return observer;
  }

  async headCommit(): Promise<string | undefined> {
    const node = await this.session.getIfExists(this.path);
    return node ? decodeHeadRecord(node.data, this.path).commit : undefined;
  }

  /** Resolves with the time `/head` first named `commit`. */
  next(commit: string): Promise<number> {
    const at = this.seen.get(commit);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.waiters.set(commit, resolve));
  }

  close(): void {
    this.closed = true;
    void this.session.close();
  }

  private async arm(): Promise<void> {
    if (this.closed) return;
    const onChange = () => {
      const at = performance.now();
      this.arm().then(
        () => undefined,
        () => undefined,
      );
      void this.headCommit().then((commit) => {
        if (!commit || this.seen.has(commit)) return;
        this.seen.set(commit, at);
        this.waiters.get(commit)?.(at);
        this.waiters.delete(commit);
      });
    };
    await this.session.exists(this.path, onChange);
  }
}

/** Resolves with the time a client's watch on the bench file delivers `n`. */
function callbackFor(config: ServiceConfig, n: number, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no callback with n = ${n} within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = config.watch<{ n: number }>(BENCH_FILE, (value) => {
      if (value?.n !== n) return;
      const at = performance.now();
      clearTimeout(timer);
      stop();
      resolve(at);
    });
  });
}

/** A GitHub push delivery, signed with the webhook secret. */
async function postPush(url: string, after: string): Promise<void> {
  const body = JSON.stringify({ ref: 'refs/heads/main', after });
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
    },
    body,
  });
  if (response.status !== 202) throw new Error(`the syncer answered the webhook with ${response.status}`);
}

/** node --expose-gc is not how `npm run bench` starts; V8 lets the flag be set at run time instead. */
function exposeGc(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

function memory(gc: (() => void) | undefined): { heapUsed: number; rss: number } {
  gc?.();
  gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}
