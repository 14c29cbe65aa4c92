import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZkError, ZkSession } from '../../core/index.js';
import { startZooKeeper, waitFor, type ZooKeeperServer } from '../harness/index.js';
import { type ProxyFault, startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/** The codes of the calls that failed, for calls that must each succeed or fail with a code. */
async function outcomes(calls: readonly Promise<unknown>[]): Promise<string[]> {
  const settled = await Promise.allSettled(calls);
  return settled.map((result) =>
    result.status === 'fulfilled'
      ? 'ok'
      : result.reason instanceof ZkError
        ? result.reason.code
        : `not a ZkError: ${String(result.reason)}`,
  );
}

describe('a server that accepts connections and never answers', () => {
  let silent: Server;
  const held: Socket[] = [];
  beforeAll(async () => {
    silent = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('fails connect() within its deadline', async () => {
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    const error = await ZkSession.connect({
      connectString: `127.0.0.1:${port}`,
      connectTimeoutMs: 800,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(800 + 1000);
    expect(held.length).toBeGreaterThan(0);
  });
});

describe('a connection that goes silent', () => {
  let zk: ZooKeeperServer;
  let proxy: TcpProxy;
  beforeAll(async () => {
    zk = await startZooKeeper();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: zk.port });
  });
  afterAll(async () => {
    await proxy?.close();
    await zk?.close();
  });

  it('fails requests within their deadline, drops the connection after two thirds of the session timeout, and resumes the session', async () => {
    const session = await ZkSession.connect({
      connectString: proxy.connectString,
      sessionTimeoutMs: 6_000,
      requestTimeoutMs: 1_000,
    });
    try {
      const sessionId = session.sessionId;
      await session.mkdirp('/silent');
      proxy.silence();
      const silencedAt = Date.now();
      const error = await session.get('/silent').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'TIMEOUT' });
      expect(Date.now() - silencedAt).toBeLessThan(1_000 + 1_000);
      await waitFor(() => session.state === 'disconnected', {
        description: 'the client to give up on the silent connection',
        timeoutMs: 15_000,
      });
      // Two thirds of the negotiated timeout, and a little for the timer.
      expect(Date.now() - silencedAt).toBeLessThan((session.sessionTimeoutMs * 2) / 3 + 2_000);
      proxy.heal();
      await waitFor(() => session.state === 'connected', {
        description: 'the session to resume',
        timeoutMs: 15_000,
      });
      expect(session.sessionId).toBe(sessionId);
      expect((await session.get('/silent')).data).toEqual(Buffer.alloc(0));
    } finally {
      await session.close();
    }
  });
});

describe('a process busy with a long synchronous task', () => {
  it('keeps its connection: answers waiting unread in the socket are not the server being silent', async () => {
    const zk = await startZooKeeper();
    const session = await ZkSession.connect({ connectString: zk.connectString, sessionTimeoutMs: 6_000 });
    try {
      const states: string[] = [];
      session.on('state', (state) => states.push(state));
      // Longer than the read timeout (two thirds of 6 s), shorter than the session timeout.
      const blockedUntil = Date.now() + 4_500;
      while (Date.now() < blockedUntil) {
        // Busy, as a parser of ten thousand files is: no timer and no socket is served meanwhile.
      }
      await session.exists('/');
      await session.sync('/');
      expect(states).toEqual([]);
    } finally {
      await session.close();
      await zk.close();
    }
  });
});

describe('answers truncated, corrupted or cut mid-packet', () => {
  let zk: ZooKeeperServer;
  let proxy: TcpProxy;
  let session: ZkSession;
  const LARGE = Buffer.alloc(512 * 1024, 'x');
  beforeAll(async () => {
    zk = await startZooKeeper();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: zk.port });
    session = await ZkSession.connect({
      connectString: proxy.connectString,
      sessionTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
    });
    await session.mkdirp('/faults');
    await session.create('/faults/small', Buffer.from('small'));
    await session.create('/faults/large', LARGE);
  });
  afterAll(async () => {
    await session?.close();
    await proxy?.close();
    await zk?.close();
  });

  /**
   * Arms `fault`, puts requests in flight, and checks that each either succeeded or failed with
   * CONNECTION_LOSS, that some failed, and that the same session then serves again. Nothing may
   * escape as an uncaught exception (vitest fails the run on one).
   */
  async function survives(fault: ProxyFault, path: string): Promise<void> {
    const sessionId = session.sessionId;
    const connectionsBefore = proxy.connections;
    proxy.fault(fault);
    const results = await outcomes(Array.from({ length: 20 }, () => session.get(path)));
    expect(results.filter((code) => code !== 'ok' && code !== 'CONNECTION_LOSS')).toEqual([]);
    expect(results).toContain('CONNECTION_LOSS');
    const { data } = await session.get(path);
    expect(data.length).toBe(path === '/faults/large' ? LARGE.length : 5);
    expect(session.sessionId).toBe(sessionId);
    expect(session.state).toBe('connected');
    expect(proxy.connections).toBeGreaterThan(connectionsBefore);
  }

  it.each([2, 9, 30])(
    'drops a connection whose answer ends %i bytes into a packet, and never reads those bytes with the next connection',
    async (bytes) => {
      await survives({ kind: 'truncate', bytes }, '/faults/small');
    },
  );

  it('drops a connection that sends garbage between packets: an answer to no request', async () => {
    // A well-formed packet: reply header with an xid nobody used, and an error number that means nothing.
    const garbage = Buffer.from([0, 0, 0, 16, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0, 0, 0, 0, 9, 0x7f, 0, 0, 1]);
    await survives({ kind: 'garbage', bytes: garbage }, '/faults/small');
  });

  it('drops a connection that sends an impossible packet length', async () => {
    await survives({ kind: 'garbage', bytes: Buffer.from([0xff, 0xff, 0xff, 0xf0]) }, '/faults/small');
  });

  it('drops a connection cut in the middle of a large answer', async () => {
    await survives({ kind: 'cut', bytes: 100 * 1024, minPacketBytes: LARGE.length }, '/faults/large');
  });
});
