import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestAclId, LeaderElection, ZK_PERMS, ZkError, ZkSession } from '../../core/index.js';
import { startZooKeeper, waitFor, type ZooKeeperServer } from '../harness/index.js';
import { lastRequestIds, normalise } from '../support/server-sessions.js';

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

  it('fails a request it cannot encode alone, and the requests beside it succeed', async () => {
    const [bad, good] = await Promise.allSettled([
      session.get(undefined as unknown as string),
      session.exists('/'),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'BAD_ARGUMENTS' } });
    expect(good).toMatchObject({ status: 'fulfilled' });
    expect(session.state).toBe('connected');
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

  describe('reads made together', () => {
    /** Requests this session sent, by the server's count of its request ids (pings carry none). */
    async function requestsSent(of: ZkSession, during: () => Promise<unknown>): Promise<bigint> {
      const id = normalise(of.sessionId);
      const before = (await lastRequestIds(zk.port)).get(id) ?? 0n;
      await during();
      return ((await lastRequestIds(zk.port)).get(id) ?? 0n) - before;
    }

    it('leave as a few multiRead requests, and each read is answered with its own node, in order', async () => {
      await session.mkdirp('/t/together');
      const paths = Array.from({ length: 100 }, (_, i) => `/t/together/n${i}`);
      await Promise.all(paths.map((path, i) => session.create(path, Buffer.from(`value ${i}`))));
      const settled: number[] = [];
      let values: string[] = [];
      const sent = await requestsSent(session, async () => {
        values = await Promise.all(
          paths.map(async (path, i) => {
            const node = await session.get(path);
            settled.push(i);
            return node.data.toString();
          }),
        );
      });
      expect(values).toEqual(paths.map((_, i) => `value ${i}`));
      expect(settled).toEqual(paths.map((_, i) => i));
      // 100 reads in multiReads of 32: 4 requests, not 100.
      expect(sent).toBe(4n);
    });

    it('fail alone: a read that finds no node among others fails, and the others are answered', async () => {
      await session.mkdirp('/t/together-gap');
      await session.create('/t/together-gap/a', Buffer.from('a'));
      await session.create('/t/together-gap/c', Buffer.from('c'));
      const [a, gone, c] = await Promise.allSettled([
        session.get('/t/together-gap/a'),
        session.get('/t/together-gap/b'),
        session.get('/t/together-gap/c'),
      ]);
      expect(a).toMatchObject({ status: 'fulfilled', value: { data: Buffer.from('a') } });
      expect(gone).toMatchObject({
        status: 'rejected',
        reason: { code: 'NO_NODE', path: '/t/together-gap/b' },
      });
      expect(c).toMatchObject({ status: 'fulfilled', value: { data: Buffer.from('c') } });
    });

    it('keep their order with the requests between them: a read after a write sees it', async () => {
      await session.create('/t/together-order', Buffer.from('before'));
      const [first, written, second] = await Promise.all([
        session.get('/t/together-order'),
        session.set('/t/together-order', Buffer.from('after')),
        session.get('/t/together-order'),
      ]);
      expect(first.data.toString()).toBe('before');
      expect(second.data.toString()).toBe('after');
      expect(second.stat.mzxid).toBe(written.mzxid);
    });

    it('serve a chroot: each read of a batch is answered for its path under it', async () => {
      await session.mkdirp('/t/together-chroot');
      await session.create('/t/together-chroot/x', Buffer.from('x'));
      await session.create('/t/together-chroot/y', Buffer.from('y'));
      const rooted = await ZkSession.connect({ connectString: `${zk.connectString}/t/together-chroot` });
      try {
        const [x, y, none] = await Promise.allSettled([rooted.get('/x'), rooted.get('/y'), rooted.get('/z')]);
        expect(x).toMatchObject({ status: 'fulfilled', value: { data: Buffer.from('x') } });
        expect(y).toMatchObject({ status: 'fulfilled', value: { data: Buffer.from('y') } });
        expect(none).toMatchObject({ status: 'rejected', reason: { code: 'NO_NODE', path: '/z' } });
      } finally {
        await rooted.close();
      }
    });

    it('made just before close() are answered before the session ends', async () => {
      const closing = await ZkSession.connect({ connectString: zk.connectString });
      const reads = Promise.all([closing.get('/t/together/n1'), closing.get('/t/together/n2')]);
      const closed = closing.close();
      expect((await reads).map((node) => node.data.toString())).toEqual(['value 1', 'value 2']);
      await closed;
    });
  });

  it('fires a one-shot watch on change', async () => {
    await session.mkdirp('/t/watch');
    const fired = new Promise((resolve) => {
      session.get('/t/watch', resolve);
    });
    await session.set('/t/watch', Buffer.from('x'));
    await expect(fired).resolves.toEqual({ type: 'changed', path: '/t/watch' });
  });

  describe('reads that watch a node that may not exist yet', () => {
    /** Makes `session.exists` run `meanwhile` first: a write landing between a read and its existence check. */
    function landBeforeExists(meanwhile: () => Promise<unknown>): () => void {
      const exists = session.exists.bind(session);
      let once = true;
      session.exists = async (path, watcher) => {
        if (once) {
          once = false;
          await meanwhile();
        }
        return exists(path, watcher);
      };
      return () => {
        session.exists = exists;
      };
    }

    it('reads a node created between the read and the existence check, and its watch fires on the next change', async () => {
      await session.mkdirp('/t/race-get');
      const events: string[] = [];
      const restore = landBeforeExists(() => session.create('/t/race-get/node', Buffer.from('born')));
      try {
        const node = await session.getWatched('/t/race-get/node', (event) => events.push(event.type));
        expect(node?.data.toString()).toBe('born');
      } finally {
        restore();
      }
      await session.set('/t/race-get/node', Buffer.from('changed'));
      await waitFor(() => events.length > 0, { description: 'the watch on the node read' });
      expect(events).toEqual(['changed']);
    });

    it('lists a folder created between the listing and the existence check, and its watch fires on a new child', async () => {
      await session.mkdirp('/t/race-children');
      const events: string[] = [];
      const restore = landBeforeExists(() => session.mkdirp('/t/race-children/folder/first'));
      try {
        const listed = await session.childrenWatched('/t/race-children/folder', (event) =>
          events.push(event.type),
        );
        expect(listed?.children).toEqual(['first']);
      } finally {
        restore();
      }
      await session.create('/t/race-children/folder/second');
      await waitFor(() => events.length > 0, { description: 'the watch on the folder listed' });
      expect(events).toEqual(['children']);
    });

    it('says a node is missing and fires when it is created', async () => {
      const events: unknown[] = [];
      expect(await session.getWatched('/t/race-missing', (event) => events.push(event))).toBeUndefined();
      expect(
        await session.childrenWatched('/t/race-missing-folder', (event) => events.push(event)),
      ).toBeUndefined();
      await session.mkdirp('/t/race-missing');
      await session.mkdirp('/t/race-missing-folder');
      await waitFor(() => events.length === 2, { description: 'both creations heard' });
      expect(events).toEqual([
        { type: 'created', path: '/t/race-missing' },
        { type: 'created', path: '/t/race-missing-folder' },
      ]);
    });
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
      // On a loaded machine the restart can outlast the shared session's timeout: the tests after
      // this one need a live session, not that one.
      await waitFor(() => session.state === 'connected' || session.state === 'expired', {
        description: 'the shared session back or expired',
        timeoutMs: 30_000,
      });
      if (session.state === 'expired') {
        await session.close();
        session = await ZkSession.connect({ connectString: zk.connectString, sessionTimeoutMs: 4000 });
      }
    }
  });

  it('fails fast with a clear message when nothing listens', async () => {
    const error = await ZkSession.connect({ connectString: '127.0.0.1:1', connectTimeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'TIMEOUT' });
    expect((error as Error).message).toContain('could not connect to ZooKeeper at 127.0.0.1:1');
  });

  it('reports when a node was created and last modified, in ms since the epoch', async () => {
    const before = Date.now();
    await session.create('/t/times', Buffer.from('a'));
    const stat = await session.set('/t/times', Buffer.from('b'));
    // The server's clock is this machine's: allow for the rounding of a second.
    expect(stat.ctime).toBeGreaterThanOrEqual(before - 1000);
    expect(stat.mtime).toBeGreaterThanOrEqual(stat.ctime);
    expect(stat.mtime).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('syncs before a read that must see the latest write', async () => {
    await session.mkdirp('/t/synced');
    await expect(session.sync('/t/synced')).resolves.toBeUndefined();
  });

  it('serves a chroot given in the connect string: paths in and out are relative to it', async () => {
    await session.mkdirp('/t/chroot');
    const rooted = await ZkSession.connect({ connectString: `${zk.connectString}/t/chroot` });
    try {
      const events: string[] = [];
      await rooted.addWatch('/', 'persistent-recursive', (event) =>
        events.push(`${event.type} ${event.path}`),
      );
      expect(await rooted.create('/a', Buffer.from('in'))).toBe('/a');
      expect(await rooted.create('/a/seq-', Buffer.alloc(0), 'persistent-sequential')).toMatch(
        /^\/a\/seq-\d{10}$/,
      );
      await rooted.mkdirp('/b/c');
      await rooted.multi([{ op: 'create', path: '/d' }]);
      expect((await session.get('/t/chroot/a')).data.toString()).toBe('in');
      expect((await session.children('/t/chroot')).children.sort()).toEqual(['a', 'b', 'd']);
      expect((await rooted.children('/')).children.sort()).toEqual(['a', 'b', 'd']);
      await waitFor(() => events.length === 5, { description: 'five events under the chroot' });
      expect(events[0]).toBe('created /a');
      expect(events.slice(2)).toEqual(['created /b', 'created /b/c', 'created /d']);
    } finally {
      await rooted.close();
    }
  });

  it('refuses calls on a closed session', async () => {
    const closing = await ZkSession.connect({ connectString: zk.connectString });
    await closing.close();
    await expect(closing.get('/')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('digest credentials and ACLs', () => {
  let zk: ZooKeeperServer;
  beforeAll(async () => {
    zk = await startZooKeeper();
  });
  afterAll(async () => {
    await zk?.close();
  });

  it('lets only the credentials an ACL names write a node, and everyone the ACL lets read it', async () => {
    const syncerAcl = [
      { perms: ZK_PERMS.ALL, scheme: 'digest', id: digestAclId('syncer:s3cret') },
      { perms: ZK_PERMS.READ, scheme: 'world', id: 'anyone' },
    ];
    const syncer = await ZkSession.connect({
      connectString: zk.connectString,
      auth: [{ scheme: 'digest', credentials: 'syncer:s3cret' }],
    });
    const anonymous = await ZkSession.connect({ connectString: zk.connectString });
    const impostor = await ZkSession.connect({
      connectString: zk.connectString,
      auth: [{ scheme: 'digest', credentials: 'syncer:guess' }],
    });
    try {
      await syncer.mkdirp('/acl/config', syncerAcl);
      await syncer.create('/acl/config/app', Buffer.from('v1'), 'persistent', syncerAcl);
      await syncer.multi([{ op: 'create', path: '/acl/config/other', acl: syncerAcl }]);

      expect((await anonymous.get('/acl/config/app')).data.toString()).toBe('v1');
      await expect(anonymous.set('/acl/config/app', Buffer.from('v2'))).rejects.toMatchObject({
        code: 'NO_AUTH',
        path: '/acl/config/app',
      });
      await expect(impostor.set('/acl/config/app', Buffer.from('v2'))).rejects.toMatchObject({
        code: 'NO_AUTH',
      });
      await expect(anonymous.create('/acl/config/intruder')).rejects.toMatchObject({ code: 'NO_AUTH' });
      await expect(anonymous.set('/acl/config/other', Buffer.from('x'))).rejects.toMatchObject({
        code: 'NO_AUTH',
      });
      await syncer.set('/acl/config/app', Buffer.from('v2'));
      expect((await anonymous.get('/acl/config/app')).data.toString()).toBe('v2');

      const { acl, stat } = await syncer.getAcl('/acl/config/app');
      expect(acl).toEqual(syncerAcl);
      // Without ADMIN on the node, the server hides the password digests.
      expect((await anonymous.getAcl('/acl/config/app')).acl[0]).toMatchObject({ id: 'syncer:x' });
      // Taking READ away from everyone: the ACL's own version guards the change.
      await expect(
        syncer.setAcl('/acl/config/app', [syncerAcl[0]!], stat.aversion + 1),
      ).rejects.toMatchObject({
        code: 'BAD_VERSION',
      });
      const changed = await syncer.setAcl('/acl/config/app', [syncerAcl[0]!], stat.aversion);
      expect(changed.aversion).toBe(stat.aversion + 1);
      await expect(anonymous.get('/acl/config/app')).rejects.toMatchObject({ code: 'NO_AUTH' });
    } finally {
      await Promise.all([syncer.close(), anonymous.close(), impostor.close()]);
    }
  });

  it('presents its credentials again after a reconnection', async () => {
    const acl = [{ perms: ZK_PERMS.ALL, scheme: 'digest', id: digestAclId('agent:pw') }];
    const agent = await ZkSession.connect({
      connectString: zk.connectString,
      auth: [{ scheme: 'digest', credentials: 'agent:pw' }],
    });
    try {
      await agent.create('/agent-node', Buffer.from('1'), 'persistent', acl);
      await zk.restart();
      await waitFor(() => agent.state === 'connected', {
        description: 'the agent to reconnect',
        timeoutMs: 20_000,
      });
      await agent.set('/agent-node', Buffer.from('2'));
      expect((await agent.get('/agent-node')).data.toString()).toBe('2');
    } finally {
      await agent.close();
    }
  });

  it('refuses credentials that are not user:password before connecting', async () => {
    await expect(
      ZkSession.connect({
        connectString: zk.connectString,
        auth: [{ scheme: 'digest', credentials: 'nocolon' }],
      }),
    ).rejects.toMatchObject({ code: 'BAD_ARGUMENTS' });
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
      candidatePath: (name) => `/election/${name}`,
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
