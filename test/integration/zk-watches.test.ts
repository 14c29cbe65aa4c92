import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ZkNodeEvent, ZkSession } from '../../core/index.js';
import { startZooKeeper, waitFor, type ZooKeeperServer } from '../harness/index.js';

/** A listener that records what it is told, as `type path`. */
function recorder(): { events: string[]; listener: (event: ZkNodeEvent) => void } {
  const events: string[] = [];
  return { events, listener: (event) => events.push(`${event.type} ${event.path}`) };
}

describe('persistent watches against a real ZooKeeper', () => {
  let zk: ZooKeeperServer;
  let session: ZkSession;
  let writer: ZkSession;
  beforeAll(async () => {
    zk = await startZooKeeper();
    session = await ZkSession.connect({ connectString: zk.connectString, sessionTimeoutMs: 10_000 });
    writer = await ZkSession.connect({ connectString: zk.connectString });
  });
  afterAll(async () => {
    await session?.close();
    await writer?.close();
    await zk?.close();
  });

  it('fires a persistent watch on every change of its node until it is removed', async () => {
    await writer.mkdirp('/p/node');
    const watched = recorder();
    const sentinel = recorder();
    const remove = await session.addWatch('/p/node', 'persistent', watched.listener);
    await session.addWatch('/p/sentinel', 'persistent', sentinel.listener);
    await writer.set('/p/node', Buffer.from('1'));
    await writer.set('/p/node', Buffer.from('2'));
    await writer.create('/p/node/child');
    await writer.remove('/p/node/child');
    await waitFor(() => watched.events.length === 4, { description: 'four events on /p/node' });
    expect(watched.events).toEqual([
      'changed /p/node',
      'changed /p/node',
      'children /p/node',
      'children /p/node',
    ]);

    await remove();
    await writer.set('/p/node', Buffer.from('3'));
    // The server notifies in order: once the sentinel hears of a later change, /p/node's would have come.
    await writer.create('/p/sentinel');
    await waitFor(() => sentinel.events.length === 1, { description: 'the sentinel event' });
    expect(watched.events).toHaveLength(4);
  });

  it('fires a persistent-recursive watch for its node and every node below, never for children changes', async () => {
    await writer.mkdirp('/r');
    const tree = recorder();
    await session.addWatch('/r', 'persistent-recursive', tree.listener);
    await writer.create('/r/a');
    await writer.create('/r/a/b', Buffer.from('x'));
    await writer.set('/r/a/b', Buffer.from('y'));
    await writer.remove('/r/a/b');
    await writer.set('/r', Buffer.from('root'));
    await waitFor(() => tree.events.length === 5, { description: 'five events under /r' });
    expect(tree.events).toEqual([
      'created /r/a',
      'created /r/a/b',
      'changed /r/a/b',
      'deleted /r/a/b',
      'changed /r',
    ]);
  });

  it('keeps persistent and one-shot watches across a server restart, on the same session', async () => {
    await writer.mkdirp('/restart/one-shot');
    const persistent = recorder();
    const recursive = recorder();
    const oneShot = recorder();
    await session.addWatch('/restart/persistent', 'persistent', persistent.listener);
    await session.addWatch('/restart/tree', 'persistent-recursive', recursive.listener);
    await session.get('/restart/one-shot', oneShot.listener);
    const sessionId = session.sessionId;

    await zk.stop();
    await waitFor(() => session.state === 'disconnected', { description: 'the client to notice' });
    await zk.restart();
    await waitFor(() => session.state === 'connected', { description: 'the session to reconnect' });
    // Answered after the watches were set again on the new connection: persistent watches do not
    // replay what changed before that (one-shot ones do, from the last zxid the client saw).
    await session.exists('/');
    // A writer opened after the restart: the first one's own reconnection may still be under way, and
    // a request waiting on a handshake that times out on a busy machine fails with it.
    const after = await ZkSession.connect({ connectString: zk.connectString });
    try {
      await after.create('/restart/persistent');
      await after.mkdirp('/restart/tree/deep');
      await after.set('/restart/one-shot', Buffer.from('after the restart'));
      await waitFor(
        () => persistent.events.length === 1 && recursive.events.length === 2 && oneShot.events.length === 1,
        { description: 'every watch to fire after the restart', timeoutMs: 20_000 },
      );
    } finally {
      await after.close();
    }
    expect(persistent.events).toEqual(['created /restart/persistent']);
    expect(recursive.events).toEqual(['created /restart/tree', 'created /restart/tree/deep']);
    expect(oneShot.events).toEqual(['changed /restart/one-shot']);
    expect(session.sessionId).toBe(sessionId);
    expect(session.state).toBe('connected');
  });
});

describe('watches over 1 MB', () => {
  let zk: ZooKeeperServer;
  afterAll(async () => {
    await zk?.close();
  });

  it('sets 30,000 watches (over 1 MB of paths) again after a restart, in packets the server accepts', async () => {
    zk = await startZooKeeper();
    const session = await ZkSession.connect({
      connectString: zk.connectString,
      sessionTimeoutMs: 20_000,
      requestTimeoutMs: 30_000,
    });
    let writer: ZkSession | undefined;
    try {
      const paths = Array.from(
        { length: 30_000 },
        (_, i) => `/many/service-${String(i).padStart(5, '0')}/environment-production/${'w'.repeat(16)}`,
      );
      const pathBytes = paths.reduce((sum, path) => sum + Buffer.byteLength(path) + 4, 0);
      expect(pathBytes).toBeGreaterThan(1024 * 1024);
      const created = recorder();
      // Exists watches on nodes that do not exist yet: they fire on creation.
      const stats = await Promise.all(paths.map((path) => session.exists(path, created.listener)));
      expect(stats.every((stat) => stat === undefined)).toBe(true);
      const states: string[] = [];
      session.on('state', (state) => states.push(state));

      await zk.restart();
      await waitFor(() => session.state === 'connected' && states.includes('connected'), {
        description: 'the session to reconnect',
        timeoutMs: 20_000,
      });
      // A writer of its own after the restart: one open across it would meet a server busy setting
      // 30,000 watches again, and its requests could fail with the connection it loses.
      writer = await ZkSession.connect({
        connectString: zk.connectString,
        sessionTimeoutMs: 20_000,
        requestTimeoutMs: 30_000,
      });
      // The first, a middle and the last path: each in a different SetWatches packet.
      const probes = [paths[0]!, paths[15_000]!, paths[29_999]!];
      for (const path of probes) await writer.mkdirp(path);
      await waitFor(() => created.events.length === 3, {
        description: 'the watches set again to fire',
        timeoutMs: 20_000,
      });
      expect(created.events.sort()).toEqual(probes.map((path) => `created ${path}`).sort());
      // A single packet over 1 MB would have made the server drop every connection, over and over.
      expect(states).toEqual(['disconnected', 'connected']);
    } finally {
      await session.close();
      await writer?.close();
    }
  });
});
