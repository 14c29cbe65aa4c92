import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ServiceConfig } from '../../sdk/index.js';
import { waitFor } from '../harness/index.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { checkPairs, openMirror, pair, recordEvents } from './sdk-test-support.js';

describe('a connected service through ZooKeeper faults', () => {
  let f: SyncerFixture;
  let writer: Awaited<ReturnType<typeof openMirror>>;
  let proxy: TcpProxy;
  let n = 0;
  const clients: ServiceConfig[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
    writer = await openMirror(f);
    await f.work.write(pair(0));
    await f.work.commit('Start the pair');
    await f.work.push(f.repoUrl);
    await writer.mirror.sync();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: f.zk.port });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await writer?.close();
    await proxy?.close();
    await f?.close();
  });

  /** Commits the next pair and mirrors it, retrying while ZooKeeper cannot take the write. */
  const nextPair = async (): Promise<string> => {
    n++;
    await f.work.write(pair(n));
    const commit = await f.work.commit(`Pair ${n}`);
    await f.work.push(f.repoUrl);
    await waitFor(async () => (await writer.mirror.sync()).kind !== 'refused', {
      description: `pair ${n} mirrored`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    return commit;
  };

  it('keeps serving while ZooKeeper is stopped, then delivers every later commit: none lost, none mixed', async () => {
    const config = await connect({
      zk: f.zk.connectString,
      service: 'recommender',
      env: 'dev',
      sessionTimeoutMs: 4000,
    });
    clients.push(config);
    const events = recordEvents(config);
    const pairs = checkPairs(config);
    const first = await nextPair();
    await waitFor(() => config.commit === first, { description: 'the first pair' });
    await f.zk.stop();
    try {
      await waitFor(() => config.connection === 'disconnected', { description: 'the client to notice' });
      expect(config.get('pair/a.yaml')).toEqual({ n });
      expect(config.commit).toBe(first);
    } finally {
      await f.zk.restart();
      await writer.close();
      writer = await openMirror(f);
    }
    let last = '';
    for (let i = 0; i < 3; i++) last = await nextPair();
    await waitFor(() => config.commit === last, {
      description: 'the last commit after the restart',
      timeoutMs: 15_000,
    });
    expect(config.get('pair/b.yaml')).toEqual({ n });
    expect(pairs.mixed).toEqual([]);
    expect(pairs.seen.at(-1)).toBe(n);
    expect(pairs.seen).toEqual([...pairs.seen].sort((a, b) => a - b));
    expect(events.connection[0]).toBe('disconnected');
    expect(events.connection.at(-1)).toBe('connected');
  });

  it('after its session expires, opens a new one, registers again and delivers what changed meanwhile', async () => {
    // The client reaches ZooKeeper through a proxy; cutting it off longer than the session timeout
    // makes the server expire the session, and the client learns it when it reconnects.
    const config = await connect({
      zk: proxy.connectString,
      service: 'recommender',
      env: 'dev',
      sessionTimeoutMs: 2000,
      instance: { host: 'rec-dev-02.dc1.northwind.internal' },
    });
    clients.push(config);
    const events = recordEvents(config);
    const pairs = checkPairs(config);
    const path = config.instancePath as string;
    const owner = await waitFor(async () => (await writer.session.exists(path))?.ephemeralOwner, {
      description: 'the first registration',
    });

    proxy.partition();
    await waitFor(async () => (await writer.session.exists(path)) === undefined, {
      description: 'the server to expire the session and delete its ephemeral node',
      timeoutMs: 15_000,
    });
    expect(config.get('pair/a.yaml')).toEqual({ n }); // still serving
    await nextPair();
    const missed = await nextPair();
    proxy.heal();

    await waitFor(() => config.commit === missed, { description: 'the commits made during the partition' });
    expect(events.connection).toEqual(['disconnected', 'expired', 'connected']);
    const registered = await waitFor(
      async () => {
        const stat = await writer.session.exists(path);
        if (!stat) return undefined;
        const record = JSON.parse((await writer.session.get(path)).data.toString());
        return record.commit === missed ? { stat, record } : undefined;
      },
      { description: 'the registration on the new session' },
    );
    expect(registered.stat.ephemeralOwner).not.toBe(owner);
    expect(pairs.mixed).toEqual([]);
    expect(pairs.seen.at(-1)).toBe(n);

    // And it keeps following commits on the new session.
    const after = await nextPair();
    await waitFor(() => config.commit === after, { description: 'a commit after the new session' });
  });
});
