import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestAclId, ZK_PERMS, ZkSession } from '../../core/index.js';
import { CairnClient } from '../../sdk/index.js';
import { waitFor } from '../harness/index.js';
import { lastRequestIds, normalise, watchesBySession } from '../support/server-sessions.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { type BoundMirror, boundMirror, commitAndSync } from './sdk-test-support.js';

describe('one CairnClient, one session, many uses', () => {
  let f: SyncerFixture;
  let mirror: BoundMirror;
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = boundMirror(f);
    await mirror.sync();
  });
  afterAll(async () => {
    await f?.close();
  });

  it('serves configs and discovery of several services over one ZooKeeper session, and closes them all with it', async () => {
    const before = new Set((await lastRequestIds(f.zk.port)).keys());
    const cairn = new CairnClient({
      zk: f.zk.connectString,
      sessionTimeoutMs: 4000,
      service: 'recommender',
      env: 'dev',
    });
    const recommender = await cairn.config({
      instance: { host: 'rec-dev-01.dc1.northwind.internal', port: 8080 },
    });
    const search = await cairn.config({ service: 'search-api', instance: false });
    const peers = await cairn.discover();
    try {
      const session = normalise(cairn.sessionId as string);
      // The server's own word: one new session, whatever the number of uses.
      const added = [...(await lastRequestIds(f.zk.port)).keys()].filter((id) => !before.has(id));
      expect(added).toEqual([session]);
      const watched = (await watchesBySession(f.zk.port)).get(session) ?? [];
      expect(watched).toEqual(
        expect.arrayContaining([
          f.layout.environment('recommender', 'dev'),
          f.layout.environment('search-api', 'dev'),
        ]),
      );
      expect(recommender.connection).toBe('connected');
      expect(search.connection).toBe('connected');
      expect(peers.instances().map((i) => i.key)).toEqual(['rec-dev-01.dc1.northwind.internal:8080']);
      const registered = await f.session.get(recommender.instancePath as string);
      expect(registered.stat.ephemeralOwner.toString(16)).toBe(session);

      // Closing one use leaves the session to the others.
      await search.close();
      expect(search.connection).toBe('closed');
      const commit = await commitAndSync(f, mirror, 'Fewer results in dev', {
        'services/recommender/config/@dev/application.yaml': 'ranking:\n  maxResults: 12\n',
      });
      await waitFor(() => recommender.commit === commit, {
        description: 'the commit reaching the other use',
      });
      expect(recommender.value('application.yaml', 'ranking.maxResults')).toBe(12);
      expect(cairn.sessionId).toBeDefined();
      expect(normalise(cairn.sessionId as string)).toBe(session);
    } finally {
      await cairn.close();
    }
    expect(recommender.connection).toBe('closed');
    expect(await f.session.exists(recommender.instancePath as string)).toBeUndefined();
    await expect(cairn.config()).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });

  it('holds any number of uses on one session without a listener-leak warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const cairn = new CairnClient({ zk: f.zk.connectString, service: 'recommender', env: 'dev' });
    try {
      const uses = await Promise.all(Array.from({ length: 12 }, () => cairn.config({ instance: false })));
      expect(uses.every((use) => use.connection === 'connected')).toBe(true);
      // Node emits process warnings on a later tick: a sentinel warning emitted now arrives after them.
      const sentinel = new Promise<void>((resolve) => {
        const onSentinel = (warning: Error) => {
          if (warning.name !== 'CairnTestSentinel') return;
          process.off('warning', onSentinel);
          resolve();
        };
        process.on('warning', onSentinel);
      });
      process.emitWarning('sentinel', 'CairnTestSentinel');
      await sentinel;
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await cairn.close();
    }
  });

  it('carries every use over to a new session when the shared one expires', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: f.zk.port });
    const cairn = new CairnClient({
      zk: proxy.connectString,
      sessionTimeoutMs: 4000,
      service: 'recommender',
      env: 'dev',
    });
    try {
      const config = await cairn.config({
        instance: { host: 'rec-dev-02.dc1.northwind.internal', port: 8080 },
      });
      const election = await cairn.elect('cache-warmer', {});
      expect(election.state).toBe('active');
      const before = cairn.sessionId;
      // Cut off for longer than the session timeout: the server expires the session.
      proxy.partition();
      await waitFor(() => config.connection === 'expired' || config.connection === 'disconnected', {
        description: 'the client cut off',
      });
      expect(election.state).not.toBe('active');
      // The server's word that the session expired: its ephemeral nodes are gone.
      await waitFor(async () => (await f.session.exists(config.instancePath as string)) === undefined, {
        timeoutMs: 30_000,
        description: 'the server expiring the session',
      });
      proxy.heal();
      await waitFor(() => cairn.connected && cairn.sessionId !== before, {
        timeoutMs: 30_000,
        description: 'a new session',
      });
      await waitFor(() => election.state === 'active', {
        timeoutMs: 30_000,
        description: 'the election rejoined',
      });
      await waitFor(async () => (await f.session.exists(config.instancePath as string)) !== undefined, {
        description: 'the instance registered again',
      });
      const commit = await commitAndSync(f, mirror, 'More results in dev', {
        'services/recommender/config/@dev/application.yaml': 'ranking:\n  maxResults: 30\n',
      });
      await waitFor(() => config.commit === commit, { description: 'a commit after the new session' });
      const session = normalise(cairn.sessionId as string);
      const registered = await f.session.get(config.instancePath as string);
      expect(registered.stat.ephemeralOwner.toString(16)).toBe(session);
    } finally {
      await cairn.close();
      await proxy.close();
    }
  }, 120_000);

  it('presents the credentials given (or CAIRN_ZK_AUTH) on its session, as ACLs require', async () => {
    // Only `sdk:pw` may join this election: its folder lets no one else create a candidate.
    const owner = await ZkSession.connect({
      connectString: f.zk.connectString,
      auth: [{ scheme: 'digest', credentials: 'sdk:pw' }],
    });
    try {
      await owner.mkdirp(f.layout.election('recommender', 'staging', 'report-writer'), [
        { perms: ZK_PERMS.ALL, scheme: 'digest', id: digestAclId('sdk:pw') },
      ]);
    } finally {
      await owner.close();
    }
    const withCredentials = new CairnClient({
      zk: f.zk.connectString,
      auth: 'sdk:pw',
      service: 'recommender',
      env: 'staging',
    });
    const without = new CairnClient({ zk: f.zk.connectString, service: 'recommender', env: 'staging' });
    try {
      const allowed = await withCredentials.elect('report-writer', {});
      expect(allowed.state).toBe('active');
      await expect(without.elect('report-writer', {})).rejects.toMatchObject({
        code: 'ELECTION_FAILED',
        message: expect.stringContaining('NO_AUTH'),
      });
    } finally {
      await Promise.all([withCredentials.close(), without.close()]);
    }
  });
});
