import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElection, ZkError, ZkSession } from '../../core/index.js';
import { startZooKeeper, waitFor, type ZooKeeperServer } from '../harness/index.js';

const CANDIDATE_SCRIPT = fileURLToPath(new URL('../fixtures/zk-candidate.ts', import.meta.url));

describe('ZkSession against a real ZooKeeper', () => {
  let zk: ZooKeeperServer;
  let session: ZkSession;
  beforeAll(async () => {
    zk = await startZooKeeper();
    session = await ZkSession.connect({ connectString: zk.connectString, sessionTimeoutMs: 4000 });
  });
  afterAll(async () => {
    await session?.close();
    await zk?.close();
  });

  it('creates, reads, updates and removes nodes, with zxids as bigints', async () => {
    await session.mkdirp('/t/basic');
    await session.create('/t/basic/a', Buffer.from('one'));
    const first = await session.get('/t/basic/a');
    expect(first.data.toString()).toBe('one');
    const stat = await session.set('/t/basic/a', Buffer.from('two'), first.stat.version);
    expect(stat.mzxid).toBeGreaterThan(first.stat.mzxid);
    expect(stat.czxid).toBe(first.stat.czxid);
    await session.remove('/t/basic/a');
    expect(await session.exists('/t/basic/a')).toBeUndefined();
  });

  it('names failures with stable codes and the path', async () => {
    await expect(session.get('/t/none')).rejects.toMatchObject({ code: 'NO_NODE', path: '/t/none' });
    await session.mkdirp('/t/codes');
    await expect(session.create('/t/codes')).rejects.toMatchObject({ code: 'NODE_EXISTS' });
    await expect(session.set('/t/codes', Buffer.from('x'), 42)).rejects.toMatchObject({
      code: 'BAD_VERSION',
    });
    await session.create('/t/codes/child');
    await expect(session.remove('/t/codes')).rejects.toMatchObject({ code: 'NOT_EMPTY' });
  });

  it('applies a multi() all or nothing, and says which operation failed', async () => {
    await session.mkdirp('/t/multi');
    await session.multi([
      { op: 'create', path: '/t/multi/a', data: Buffer.from('a') },
      { op: 'create', path: '/t/multi/b', data: Buffer.from('b') },
    ]);
    const error = await session
      .multi([
        { op: 'set', path: '/t/multi/a', data: Buffer.from('changed') },
        { op: 'create', path: '/t/multi/b' },
        { op: 'create', path: '/t/multi/c' },
      ])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZkError);
    expect(error).toMatchObject({ code: 'NODE_EXISTS', opIndex: 1, path: '/t/multi/b' });
    expect((await session.get('/t/multi/a')).data.toString()).toBe('a');
    expect(await session.exists('/t/multi/c')).toBeUndefined();
  });

  it('fires a one-shot watch on change', async () => {
    await session.mkdirp('/t/watch');
    const fired = new Promise((resolve) => {
      session.get('/t/watch', resolve);
    });
    await session.set('/t/watch', Buffer.from('x'));
    await expect(fired).resolves.toEqual({ type: 'changed', path: '/t/watch' });
  });

  it('puts a deadline on calls made while ZooKeeper is down', async () => {
    const short = await ZkSession.connect({
      connectString: zk.connectString,
      requestTimeoutMs: 500,
      sessionTimeoutMs: 10_000,
    });
    try {
      await zk.stop();
      await waitFor(() => short.state === 'disconnected', {
        description: 'the client notices the server is gone',
      });
      // It waits for the connection attempt under way: refused at once, or one that never answers.
      const started = Date.now();
      const error = await short.get('/t').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ZkError);
      expect(['TIMEOUT', 'CONNECTION_LOSS']).toContain((error as ZkError).code);
      expect(Date.now() - started).toBeLessThan(500 + 1000);
    } finally {
      await zk.restart();
      await short.close();
    }
  });

  it('fails fast with a clear message when nothing listens', async () => {
    const error = await ZkSession.connect({ connectString: '127.0.0.1:1', connectTimeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect((error as Error).message).toContain('could not connect to ZooKeeper at 127.0.0.1:1');
  });

  it('refuses calls on a closed session', async () => {
    const closing = await ZkSession.connect({ connectString: zk.connectString });
    await closing.close();
    await expect(closing.get('/')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('LeaderElection', () => {
  let zk: ZooKeeperServer;
  beforeAll(async () => {
    zk = await startZooKeeper();
  });
  afterAll(async () => {
    await zk?.close();
  });

  const candidate = async (id: string) => {
    const session = await ZkSession.connect({ connectString: zk.connectString, sessionTimeoutMs: 2000 });
    const election = new LeaderElection(session, {
      dir: '/election',
      prefix: '/election/candidate-',
      candidateId: id,
    });
    await election.start();
    return { session, election };
  };

  it('elects exactly one leader, and the next candidate when the leader goes', async () => {
    const a = await candidate('a');
    const b = await candidate('b');
    const c = await candidate('c');
    expect([a, b, c].map((x) => x.election.state)).toEqual(['leader', 'candidate', 'candidate']);
    expect(await b.election.leaderId()).toBe('a');

    await a.election.close();
    await a.session.close();
    await b.election.waitForLeadership(5000);
    expect(c.election.state).toBe('candidate');
    expect(await c.election.leaderId()).toBe('b');

    // The leader's fence is a check on its own node: a deposed leader's transactions fail.
    const fence = b.election.fence();
    await b.session.multi([fence]);
    await b.election.close();
    await expect(c.session.multi([fence])).rejects.toMatchObject({ code: 'NO_NODE' });
    await c.election.waitForLeadership(5000);
    await c.election.close();
    await Promise.all([b.session.close(), c.session.close()]);
  });

  it('takes over within the session timeout when the leader is killed without a goodbye', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', CANDIDATE_SCRIPT, zk.connectString, '/election/candidate-', '2000'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    expect(line.toString()).toMatch(/candidate-\d{10}/);
    const b = await candidate('b');
    expect(b.election.state).toBe('candidate');
    expect(await b.election.leaderId()).toBe('killed-candidate');

    child.kill('SIGKILL');
    const killedAt = Date.now();
    await b.election.waitForLeadership(15_000);
    // ZooKeeper expires the dead session after its timeout (2 s here), checked once per tick.
    expect(Date.now() - killedAt).toBeLessThan(2000 + 2000);
    await b.election.close();
    await b.session.close();
  });

  it('reports the election lost when its session closes', async () => {
    const a = await candidate('a');
    const states: string[] = [];
    a.election.on('state', (s) => states.push(s));
    await a.session.close();
    expect(states).toEqual(['lost']);
    expect(() => a.election.fence()).toThrow(ZkError);
  });
});

describe('a session cut off for longer than its timeout', () => {
  it('is treated as expired without waiting to hear it from the server', async () => {
    const zk = await startZooKeeper();
    try {
      const session = await ZkSession.connect({ connectString: zk.connectString, sessionTimeoutMs: 2000 });
      const states: string[] = [];
      session.on('state', (s) => states.push(s));
      await zk.stop();
      await waitFor(() => session.state === 'expired', { description: 'local expiry', timeoutMs: 6000 });
      expect(states).toEqual(['disconnected', 'expired']);
      await expect(session.get('/')).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
      await session.close();
      expect(session.state).toBe('closed');
    } finally {
      await zk.close();
    }
  });
});
