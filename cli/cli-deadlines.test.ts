import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDirectoryAsRepo } from '../local/index.js';
import { startZooKeeper, type ZooKeeperServer } from '../test/harness/index.js';
import { runCairnWithin } from '../test/support/cairn-process.js';
import { EXAMPLE_REPO_DIR } from '../test/support/example-repo.js';
import { startTcpProxy, type TcpProxy } from '../test/support/tcp-proxy.js';

/** Short deadlines, so that a command that honours them ends in seconds. */
const DEADLINES = {
  CAIRN_ZK_CONNECT_TIMEOUT: '2s',
  CAIRN_ZK_REQUEST_TIMEOUT: '2s',
  CAIRN_ZK_SESSION_TIMEOUT: '6s',
};
/**
 * A command that honours its deadlines ends well within this, even on a loaded machine where
 * starting Node.js alone takes seconds; one that hangs is killed at it.
 */
const KILL_AFTER_MS = 45_000;
// Each command is a process of its own that mostly waits out a deadline: a describe's commands run
// at once (vitest's maxConcurrency, 5), each still held to the same deadline.

let scratch: string;
let repo: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cairn-deadlines-'));
  repo = (await importDirectoryAsRepo(EXAMPLE_REPO_DIR, { into: join(scratch, 'repo') })).repo;
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** Every command that talks to ZooKeeper and is expected to end, with what it needs besides --zk. */
const COMMANDS: readonly (readonly [string, () => string[]])[] = [
  ['status', () => ['status']],
  ['status --format json', () => ['status', '--format', 'json']],
  ['get', () => ['get', 'recommender', 'dev']],
  ['history', () => ['history']],
  ['deploy status', () => ['deploy', 'status']],
  ['deploy log', () => ['deploy', 'log', 'recommender', 'dev']],
  // A cache directory per run: one syncer claims its cache directory, and the two suites' runs overlap.
  [
    'sync --once',
    () => ['sync', '--once', '--repo', repo, '--cache-dir', join(scratch, `cache-${randomUUID()}`)],
  ],
];

function expectEndedWithExit2(run: Awaited<ReturnType<typeof runCairnWithin>>): void {
  expect(run.killed, `still running after ${KILL_AFTER_MS} ms; stderr: ${run.stderr}`).toBe(false);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).toMatch(/^cairn: .*ZooKeeper/m);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe.concurrent('against an address that accepts connections and never answers', () => {
  let silent: Server;
  const held: Socket[] = [];
  let address: string;
  beforeAll(async () => {
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(silent.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it.each(COMMANDS)('cairn %s ends with exit 2, saying it could not connect', async (_, args) => {
    const run = await runCairnWithin(KILL_AFTER_MS, [...args(), '--zk', address], DEADLINES);
    expectEndedWithExit2(run);
    expect(run.stderr).toContain(`could not connect to ZooKeeper at ${address}`);
  });
});

describe.concurrent('against a ZooKeeper that takes the session and then answers nothing', () => {
  let zk: ZooKeeperServer;
  let proxy: TcpProxy;
  beforeAll(async () => {
    zk = await startZooKeeper();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: zk.port });
    proxy.answerHandshakesOnly();
  });
  afterAll(async () => {
    await proxy?.close();
    await zk?.close();
  });

  it.each(COMMANDS)('cairn %s ends with exit 2 within its request deadline', async (_, args) => {
    const run = await runCairnWithin(KILL_AFTER_MS, [...args(), '--zk', proxy.connectString], DEADLINES);
    expectEndedWithExit2(run);
  });

  it('cairn start --zk ends with exit 2 before it creates anything', async () => {
    const cwd = await mkdtemp(join(scratch, 'start-'));
    const run = await runCairnWithin(KILL_AFTER_MS, ['start', '--zk', proxy.connectString], DEADLINES, {
      cwd,
    });
    expectEndedWithExit2(run);
    expect(run.stderr).toContain(`--zk ${proxy.connectString}: `);
    expect(await readdir(cwd)).toEqual([]);
  });
});
