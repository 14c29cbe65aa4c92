import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHeadRecord, FencedWriter, ZkError, ZkLayout, ZkSession } from '../../core/index.js';
import { openGitSource } from '../../syncer/git/index.js';
import { resolveSyncerConfig, SyncerDaemon } from '../../syncer/index.js';
import { Mirror, type SyncTarget } from '../../syncer/mirror.js';
import { ensureLayout } from '../../syncer/zk/bootstrap.js';
import { fourLetterWord, startEnsemble, waitFor, type ZooKeeperEnsemble } from '../harness/index.js';
import { spawnCairn } from '../support/cairn-process.js';
import { firstStaged, largeChange } from '../support/large-change.js';
import { quietLogger, readView, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

/** Deterministic "random" kill points, so a failing run can be reproduced. */
function* transactionCounts(seed: number, min: number, max: number): Generator<number> {
  let state = seed;
  for (;;) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    yield min + (state % (max - min));
  }
}

/** The last zxid the server applied, from its `srvr` answer. */
async function serverZxid(port: number): Promise<bigint> {
  const answer = await fourLetterWord(port, 'srvr');
  const hex = /Zxid: 0x([0-9a-f]+)/.exec(answer)?.[1];
  if (!hex) throw new Error(`no Zxid in srvr answer: ${answer}`);
  return BigInt(`0x${hex}`);
}

/** Retries a sync through transient failures (lost connection, timeouts), as the daemon does. */
async function syncUntilDone(mirror: Mirror, target: SyncTarget, deadlineMs = 60_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      const outcome = await mirror.sync(target);
      if (outcome.kind === 'refused') throw outcome.error;
      return;
    } catch (error) {
      if (!(error instanceof ZkError && error.transient) || Date.now() > deadline) throw error;
    }
  }
}

describe('syncer faults against a standalone ZooKeeper', () => {
  let f: SyncerFixture;
  beforeAll(async () => {
    f = await startSyncerFixture();
    await syncUntilDone(f.newMirror(), f.target);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('ends exact after being killed (SIGKILL) at random points of large syncs', async () => {
    const args = [...f.syncOnceArgs(), '--session-timeout', '1s'];
    // A kill point is a number of ZooKeeper transactions after the commit's first staged write:
    // every write bumps the server's zxid. Each round pushes a new commit of a different size, so a
    // later run must also undo what an abandoned one staged.
    const killAfter = transactionCounts(20261123, 0, 6);
    const head = async () => decodeHeadRecord((await f.session.get(f.layout.head())).data).commit;
    const before = await head();
    const heads = new Set<string>();
    const commits: string[] = [];
    for (const [round, count] of [1500, 1100, 1700, 900].entries()) {
      await f.work.git('rm', '-r', '-q', '--ignore-unmatch', 'services/search-api/config/synonyms');
      await f.work.write(largeChange(count, `round-${round}`));
      commits.push(await f.work.commit(`Round ${round}: ${count} synonym files`));
      await f.work.push(f.repoUrl);
      const child = spawnCairn(args);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const staged = async () =>
        (await f.session.exists(firstStaged(f.layout, `round-${round}`))) !== undefined;
      await waitFor(async () => (await staged()) || child.exitCode !== null, {
        description: `round ${round} staging`,
        timeoutMs: 120_000,
        intervalMs: 2,
      });
      const start = await serverZxid(f.zk.port);
      const transactions = BigInt(killAfter.next().value as number);
      await waitFor(
        async () => (await serverZxid(f.zk.port)) >= start + transactions || child.exitCode !== null,
        {
          description: `${transactions} transactions into round ${round}`,
          timeoutMs: 120_000,
          intervalMs: 2,
        },
      );
      child.kill('SIGKILL');
      await exited;
      heads.add(await head());
      // Whatever instant the kill came at, every environment reads whole.
      await readView(f.session, f.layout);
    }
    // /head only ever names whole commits that were pushed.
    for (const head of heads) expect([before, ...commits]).toContain(head);
    const final = spawnCairn(args);
    const code = await new Promise((resolve) => final.once('exit', resolve));
    expect(code).toBe(0);
    expect(await head()).toBe(commits.at(-1));
    expect(await f.actualView()).toEqual(await f.expectedView());
  }, 240_000);

  it('ends exact when ZooKeeper restarts in the middle of a sync', async () => {
    await f.work.write(largeChange(1500, 'restarted'));
    const target = await f.work.commit('Rewrite 1,500 synonym files');
    await f.work.push(f.repoUrl);
    const daemon = new SyncerDaemon(
      resolveSyncerConfig(
        {
          repo: f.repoUrl,
          zk: f.zk.connectString,
          poll: '500ms',
          sessionTimeout: '2s',
          cacheDir: f.cacheDir,
          replicaId: 'restart-test',
        },
        {},
        { hostname: 'test', pid: 0 },
      ),
      quietLogger,
    );
    const probe = await ZkSession.connect({ connectString: f.zk.connectString });
    const first = firstStaged(f.layout, 'restarted');
    try {
      await daemon.start();
      // Stop the server once the first staged batch has landed.
      await waitFor(async () => (await probe.exists(first)) !== undefined, {
        description: 'staging started',
        timeoutMs: 20_000,
        intervalMs: 5,
      });
      // Closed while connected: closing a session while its server is down races its reconnection.
      await probe.close();
      await f.zk.stop();
      await f.zk.restart();
      // The daemon retries, on a new session if the old one is lost, until the commit is whole.
      const reader = await ZkSession.connect({ connectString: f.zk.connectString });
      try {
        await waitFor(
          async () => decodeHeadRecord((await reader.get(f.layout.head())).data).commit === target,
          { description: 'the commit mirrored after the restart', timeoutMs: 45_000 },
        );
        // Read back on the fresh session: the fixture's own may still be reconnecting after the restart.
        expect(await readView(reader, f.layout)).toEqual(await f.expectedView());
      } finally {
        await reader.close();
      }
    } finally {
      await daemon.close();
    }
  }, 180_000);
});

describe('syncer faults against a 3-node ensemble', () => {
  let ensemble: ZooKeeperEnsemble;
  let f: SyncerFixture;
  let session: ZkSession;
  let cacheDir: string;
  beforeAll(async () => {
    ensemble = await startEnsemble(3);
    f = await startSyncerFixture();
    session = await ZkSession.connect({ connectString: ensemble.connectString, sessionTimeoutMs: 6000 });
    cacheDir = await mkdtemp(join(tmpdir(), 'cairn-ensemble-cache-'));
  });
  afterAll(async () => {
    await session?.close();
    await f?.close();
    await ensemble?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it('ends exact when the ensemble leader is killed in the middle of a sync', async () => {
    const layout = new ZkLayout('/cairn');
    await ensureLayout(session, layout);
    const source = openGitSource({ url: f.repoUrl, branch: 'main', cacheDir });
    const mirror = new Mirror({ layout, source, branch: 'main', logger: quietLogger });
    const fence = await session.create('/test-fence', new Uint8Array(0), 'ephemeral');
    const target: SyncTarget = {
      session,
      writer: new FencedWriter(session, () => ({ op: 'check', path: fence, version: 0 })),
      term: 1,
    };
    await syncUntilDone(mirror, target);
    await f.work.write(largeChange(1500, 'ensemble'));
    const added = await f.work.commit('Add 1,500 synonym files');
    await f.work.push(f.repoUrl);

    const leader = await ensemble.leader();
    const sync = mirror.sync(target).catch((error: unknown) => error);
    await waitFor(async () => (await session.exists(firstStaged(layout, 'ensemble'))) !== undefined, {
      description: 'staging started',
      timeoutMs: 20_000,
      intervalMs: 5,
    });
    await leader.kill();
    await sync;
    await syncUntilDone(mirror, target);
    const newLeader = await ensemble.leader();
    expect(newLeader.id).not.toBe(leader.id);
    expect(decodeHeadRecord((await session.get(layout.head())).data).commit).toBe(added);
    expect(await readView(session, layout)).toEqual(await f.expectedView());
    source.close();
  }, 180_000);
});
