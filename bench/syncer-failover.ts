import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { decodeHeadRecord, ZkLayout, ZkSession } from '../core/index.js';
import type { SyncTimings } from '../syncer/index.js';
import {
  createBareRepo,
  createWorkRepo,
  startGitServer,
  startZooKeeper,
  waitFor,
} from '../test/harness/index.js';
import { postPushWebhook } from '../test/support/webhook.js';
import { settingsYaml, writeGeneratedRepo } from './generated-repo.js';
import type { BenchTable } from './table.js';

/** Files in the generated repository (CAIRN_BENCH_FAILOVER_FILES, for a quick run while developing). */
const FILES = Number(process.env.CAIRN_BENCH_FAILOVER_FILES ?? 10_000);
/** The replicas' `--session-timeout`, in seconds (CAIRN_BENCH_SESSION_TIMEOUT): the syncer's default. */
const SESSION_TIMEOUT_S = Number(process.env.CAIRN_BENCH_SESSION_TIMEOUT ?? 10);
const SECRET = 'bench-webhook-secret';
const ROOT = '/bench-failover';
/** The command line from source (the tests' compiled one exists only inside a test run). */
const CAIRN = [
  '--import',
  pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href,
  fileURLToPath(new URL('../cli/main.ts', import.meta.url)),
];

/** A JSON log line of a replica, as pino writes it. */
interface LogLine {
  readonly time: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A `cairn sync --watch` process and the log lines it has written so far. */
interface Replica {
  readonly process: ChildProcess;
  readonly lines: LogLine[];
  find(msg: string, after?: number): LogLine | undefined;
}

/**
 * Two `cairn sync --watch` processes on a generated repository, each with a clone and a validation
 * cache of its own (copied from one `cairn sync --once`, as a replica restarted on the same host has
 * them). The leader is SIGKILLed, a one-file commit is pushed and its webhook posted to the standby;
 * timed from the kill to `/head` naming the commit, with the phases of the new leader's first pass
 * from its log.
 */
export async function measureFailover(): Promise<BenchTable> {
  const sessionTimeoutMs = SESSION_TIMEOUT_S * 1000;
  const zk = await startZooKeeper({ maxSessionTimeout: Math.max(sessionTimeoutMs, 10_000) });
  const git = await startGitServer();
  const scratch = await mkdtemp(join(tmpdir(), 'cairn-bench-failover-'));
  const replicas: Replica[] = [];
  const session = await ZkSession.connect({ connectString: zk.connectString });
  try {
    const url = await createBareRepo(git, `failover-${FILES}`);
    const work = await createWorkRepo();
    await writeGeneratedRepo(work, FILES);
    await work.commit(`Generate ${FILES} files`);
    await work.push(url);
    const common = ['--repo', url, '--zk', zk.connectString, '--root', ROOT];
    const leaderCache = join(scratch, 'leader');
    await promisify(execFile)(
      process.execPath,
      [...CAIRN, 'sync', '--once', ...common, '--cache-dir', leaderCache],
      {
        env: { ...process.env, CAIRN_LOG_LEVEL: 'warn' },
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const standbyCache = join(scratch, 'standby');
    await cp(leaderCache, standbyCache, { recursive: true });

    const layout = new ZkLayout(ROOT);
    const headCommit = async () => {
      const node = await session.getIfExists(layout.head());
      return node ? decodeHeadRecord(node.data).commit : undefined;
    };
    const candidates = async () =>
      (await session.childrenIfExists(layout.syncersDir())).filter((name) => name.startsWith('candidate'))
        .length;
    const watchArgs = (id: string, cacheDir: string) => [
      'sync',
      '--watch',
      ...common,
      '--cache-dir',
      cacheDir,
      '--session-timeout',
      `${SESSION_TIMEOUT_S}s`,
      '--poll',
      '1h',
      '--replica-id',
      id,
      '--listen',
      '127.0.0.1:0',
    ];
    const leader = startReplica(watchArgs('leader', leaderCache));
    replicas.push(leader);
    await waitFor(async () => (await candidates()) === 1 && leader.find('elected leader') !== undefined, {
      description: 'the leader process leads',
      timeoutMs: 180_000,
    });
    const standby = startReplica(watchArgs('standby', standbyCache));
    replicas.push(standby);
    await waitFor(() => standby.find('followed the branch as a standby') !== undefined, {
      description: 'the standby follows the branch',
      timeoutMs: 180_000,
    });
    const listening = standby.find('listening for webhooks, health and metrics');
    const port = (listening?.address as { port: number } | undefined)?.port;
    if (port === undefined) throw new Error('the standby did not say where it listens');

    leader.process.kill('SIGKILL');
    const killedAt = Date.now();
    const path = 'services/svc-000/config/module-00/settings-0.yaml';
    await work.write({ [path]: settingsYaml(0, 0, 1) });
    const commit = await work.commit('One file after the failover');
    await work.push(url);
    const pushedAt = Date.now();
    await postPushWebhook(`http://127.0.0.1:${port}/webhook`, SECRET, { after: commit });
    await waitFor(async () => (await headCommit()) === commit, {
      description: 'the commit on /head',
      timeoutMs: sessionTimeoutMs + 120_000,
      intervalMs: 5,
    });
    const onHeadAt = Date.now();

    const mirroredLine = () => standby.lines.find((l) => l.msg === 'commit mirrored' && l.commit === commit);
    // Its log line may reach this process after ZooKeeper's answer does.
    await waitFor(() => mirroredLine() !== undefined, {
      description: 'the new leader’s log',
      timeoutMs: 10_000,
    });
    const mirrored = mirroredLine();
    const elected = standby.find('elected leader', killedAt);
    const followed = standby.lines.find(
      (l) => l.msg === 'followed the branch as a standby' && l.commit === commit,
    );
    const t = mirrored?.timings as SyncTimings | undefined;
    const total = onHeadAt - killedAt;
    const target = sessionTimeoutMs + 500;
    const pass = elected && mirrored ? mirrored.time - elected.time : Number.NaN;
    const fmt = (value: number | undefined) => (value === undefined ? 'n/a' : `${Math.round(value)} ms`);
    return {
      title: `Syncer: failover on a generated ${FILES.toLocaleString('en-US')}-file repository (leader SIGKILLed, then a one-file commit)`,
      columns: ['measure', 'time'],
      rows: [
        ['the session timeout of both replicas', fmt(sessionTimeoutMs)],
        ['kill to the commit on /head', fmt(total)],
        [
          '  kill to the standby elected (the session expires)',
          fmt(elected ? elected.time - killedAt : undefined),
        ],
        ["  the new leader's first pass: elected to commit mirrored (its log)", fmt(pass)],
        ['    fetch', fmt(t?.fetchMs)],
        ['    read /head, the changed trees and files, the commit', fmt(t?.readMs)],
        ['    parse and validate', fmt(t?.validateMs)],
        ['    desired state, plan and ZooKeeper write', fmt(t?.writeMs)],
        ['      of which reading what ZooKeeper holds', fmt(t?.stateMs)],
        ['    files parsed by that pass', String(mirrored?.filesParsed ?? 'n/a')],
        [
          'the standby following the pushed commit before it led (fetch, read, validate)',
          fmt(followed ? (followed.ms as number) : undefined),
        ],
        ['  files parsed then', String(followed?.filesParsed ?? 'n/a')],
        ['push to webhook answered (after the kill)', fmt(pushedAt - killedAt)],
      ],
      notes: [
        `Target: kill to /head within the session timeout plus 500 ms (${fmt(target)}): ${total <= target ? 'met' : 'NOT met'}.`,
        'A standby follows the branch on every poll and webhook (fetch, read the changed trees, validate with its cache, compute the desired state) and writes nothing; the pass that takes over fetches, reads what ZooKeeper holds (alongside the fetch) and publishes the difference.',
        `Load average when it ended: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(', ')}.`,
      ],
    };
  } finally {
    for (const replica of replicas) replica.process.kill('SIGKILL');
    await session.close();
    await git.close();
    await zk.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

function startReplica(args: string[]): Replica {
  const child = spawn(process.execPath, [...CAIRN, ...args], {
    env: { ...process.env, CAIRN_LOG_LEVEL: 'debug', CAIRN_LOG_FORMAT: 'json', CAIRN_WEBHOOK_SECRET: SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  let rest = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    const text = rest + chunk.toString();
    const parts = text.split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) {
      try {
        lines.push(JSON.parse(part) as LogLine);
      } catch {
        // Not a log record (a warning from Node itself): shown, not measured.
        process.stderr.write(`${part}\n`);
      }
    }
  });
  child.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL')
      process.stderr.write(`a replica exited (${code ?? signal}): ${JSON.stringify(lines.slice(-5))}\n`);
  });
  child.stdout?.resume();
  return {
    process: child,
    lines,
    find: (msg, after = 0) => lines.find((line) => line.msg.startsWith(msg) && line.time >= after),
  };
}
