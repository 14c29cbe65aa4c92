import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCacheFile } from '../../sdk/cache-file.js';
import {
  type ConfigChange,
  type ConnectOptions,
  connect,
  type InstanceRecord,
  ServiceConfig,
} from '../../sdk/index.js';
import { recordTiming } from '../../sdk/service-config.js';
import { waitFor } from '../harness/index.js';
import { lastRequestIds } from '../support/server-sessions.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import {
  type BoundMirror,
  boundMirror,
  checkPairs,
  commitAndSync,
  pair,
  recordEvents,
  tempDir,
} from './sdk-test-support.js';

describe('a service connected to its configuration', () => {
  let f: SyncerFixture;
  let mirror: BoundMirror;
  const clients: ServiceConfig[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = boundMirror(f);
    await mirror.sync();
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await f?.close();
  });

  const open = async (options: Partial<ConnectOptions> = {}) => {
    const config = await connect({
      zk: f.zk.connectString,
      service: 'recommender',
      env: 'dev',
      sessionTimeoutMs: 4000,
      ...options,
    });
    clients.push(config);
    return config;
  };
  const sync = (message: string, files: Record<string, string | Uint8Array | null>) =>
    commitAndSync(f, mirror, message, files);

  it('reads every file of its environment, parsed by its type', async () => {
    const binary = Uint8Array.from([0xff, 0xfe, 0x00, 0x01, 0x80]);
    await sync('Add a model blob', { 'services/recommender/config/model.bin': binary });
    const recommender = await open();
    expect(recommender.source).toBe('zookeeper');
    expect(recommender.commit).toBe(await f.work.head());
    expect(recommender.files()).toEqual([
      'application.yaml',
      'feature-flags.json',
      'model.bin',
      'rules/blocklist.yaml',
      'rules/boost.yaml',
    ]);
    const app = recommender.get<{ server: { port: number }; logging: { level: string } }>('application.yaml');
    expect(app.server.port).toBe(8080);
    expect(app.logging.level).toBe('debug'); // the @dev overlay, applied by the syncer
    expect(Object.isFrozen(app.server)).toBe(true);
    expect(typeof recommender.get('feature-flags.json')).toBe('object');
    expect(recommender.get('model.bin')).toEqual(binary);
    expect(recommender.bytes('model.bin')).toEqual(binary);

    const search = await open({ service: 'search-api', instance: false });
    expect(search.get<Record<string, string>>('application.properties')).toMatchObject({});
    for (const value of Object.values(search.get<Record<string, unknown>>('application.properties')))
      expect(typeof value).toBe('string');
    expect(search.get('ranking.toml')).toBeTypeOf('object');
    const reports = await open({ service: 'nightly-reports', instance: false });
    const ini = reports.get<Record<string, Record<string, string>>>('reports.ini');
    expect(Object.values(ini).every((section) => typeof section === 'object')).toBe(true);
    const gateway = await open({ service: 'edge-gateway', instance: false });
    expect(gateway.get<string>('nginx.conf')).toContain('http');
    expect(new TextDecoder().decode(gateway.bytes('nginx.conf'))).toBe(gateway.get('nginx.conf'));
  });

  it('delivers a merged-and-synced change through watch() and on("change"), every file of the commit together', async () => {
    const config = await open();
    const events = recordEvents(config);
    const watched: { value: unknown; commit: string; author: string; message: string; time: string }[] = [];
    const seenInside: unknown[] = [];
    config.watch<{ logging: { level: string } }>('application.yaml', (value, change) => {
      watched.push({
        value: value?.logging.level,
        commit: change.commit,
        author: change.author.name,
        message: change.message,
        time: change.time,
      });
      // Inside a callback every file already has the new commit's value.
      seenInside.push(config.get<{ tuned: boolean }>('rules/tuning.yaml').tuned);
    });
    const before = config.commit;
    const commit = await sync('Tune dev logging and add tuning rules', {
      'services/recommender/config/@dev/application.yaml': 'logging:\n  level: warn\n',
      'services/recommender/config/rules/tuning.yaml': 'tuned: true\n',
      'services/recommender/config/rules/blocklist.yaml': null,
    });
    await waitFor(() => events.changes.length === 1, { description: 'the change event' });
    const change = events.changes[0] as ConfigChange;
    expect(change).toMatchObject({ commit, previousCommit: before, author: { name: 'Cairn Test' } });
    expect(change.message).toContain('Tune dev logging');
    expect(change.files.map((file) => [file.file, file.kind])).toEqual([
      ['application.yaml', 'modified'],
      ['rules/blocklist.yaml', 'removed'],
      ['rules/tuning.yaml', 'added'],
    ]);
    expect(change.files[0]?.previousValue).toMatchObject({ logging: { level: 'debug' } });
    expect(change.files[1]?.value).toBeUndefined();
    expect(watched).toEqual([
      { value: 'warn', commit, author: 'Cairn Test', message: expect.any(String), time: expect.any(String) },
    ]);
    expect(Date.parse(watched[0]?.time ?? '')).not.toBeNaN();
    expect(seenInside).toEqual([true]);
    expect(config.has('rules/blocklist.yaml')).toBe(false);
  });

  it('reads a commit once among the clients of a process: each reads its pointer, one the new content', async () => {
    // Alone in the process: a client of an earlier test would wake for the same commit and could
    // read the new content first, which would leave these three less to read.
    await Promise.all(clients.splice(0).map((client) => client.close()));
    const sessionsBefore = new Set((await lastRequestIds(f.zk.port)).keys());
    // The longest session the test server grants: a server starved on a busy machine is not taken
    // for a dead one as readily, and a reconnection, which reads the pointer again, is counted.
    const three = await Promise.all([1, 2, 3].map(() => open({ instance: false, sessionTimeoutMs: 10_000 })));
    let reconnections = 0n;
    for (const config of three)
      config.on('connection', (state) => {
        if (state === 'connected') reconnections++;
      });
    const mine = [...(await lastRequestIds(f.zk.port))].filter(([sid]) => !sessionsBefore.has(sid));
    expect(mine).toHaveLength(3);
    const delivered = three.map(
      (config) =>
        new Promise((resolve) => {
          const stop = config.watch('rules/shared.yaml', (value) => {
            stop();
            resolve(value);
          });
        }),
    );
    await sync('One change for three clients', {
      'services/recommender/config/rules/shared.yaml': 'shared: 1\n',
    });
    expect(await Promise.all(delivered)).toEqual([{ shared: 1 }, { shared: 1 }, { shared: 1 }]);
    const after = await lastRequestIds(f.zk.port);
    const sent = mine.reduce((sum, [sid, before]) => sum + ((after.get(sid) ?? before) - before), 0n);
    // Three pointers, then the new manifest and the changed file once (6 and 9 requests without sharing).
    expect(sent).toBe(5n + reconnections);
    // Parsed once too: the same frozen value.
    const [a, b, c] = three.map((config) => config.get('rules/shared.yaml'));
    expect(a).toBe(b);
    expect(b).toBe(c);
  });

  it('stops calling a listener once unsubscribed, and keeps calling the others', async () => {
    const config = await open();
    const first: string[] = [];
    const second: string[] = [];
    const stop = config.watch('rules/tuning.yaml', (_value, change) => first.push(change.commit));
    config.watch('rules/tuning.yaml', (_value, change) => second.push(change.commit));
    const one = await sync('Tuning one', { 'services/recommender/config/rules/tuning.yaml': 'tuned: 1\n' });
    await waitFor(() => config.commit === one, { description: 'commit one applied' });
    stop();
    const two = await sync('Tuning two', { 'services/recommender/config/rules/tuning.yaml': 'tuned: 2\n' });
    await waitFor(() => config.commit === two, { description: 'commit two applied' });
    expect(first).toEqual([one]);
    expect(second).toEqual([one, two]);
  });

  it('keeps delivering when a listener throws, and reports it as a warning', async () => {
    const config = await open();
    const events = recordEvents(config);
    config.watch('rules/tuning.yaml', () => {
      throw new Error('listener bug');
    });
    config.on('change', async () => {
      throw new Error('async listener bug');
    });
    const commit = await sync('Tuning three', {
      'services/recommender/config/rules/tuning.yaml': 'tuned: 3\n',
    });
    await waitFor(() => events.warnings.length === 2, { description: 'two LISTENER_FAILED warnings' });
    expect(events.warnings.map((w) => w.code)).toEqual(['LISTENER_FAILED', 'LISTENER_FAILED']);
    expect(events.changes.map((c) => c.commit)).toEqual([commit]);
    expect(config.get('rules/tuning.yaml')).toEqual({ tuned: 3 });
  });

  it('yields changes from an async iterator, coalescing what a slow consumer has not taken yet', async () => {
    const config = await open();
    const stream = config.changes();
    const one = await sync('Iterate one', { 'services/recommender/config/rules/tuning.yaml': 'tuned: 10\n' });
    const first = await stream.next();
    expect(first.value).toMatchObject({
      commit: one,
      files: [{ file: 'rules/tuning.yaml', kind: 'modified' }],
    });
    // Two commits while nobody iterates: taken as one change from before the first to after the second.
    await sync('Iterate two', { 'services/recommender/config/rules/extra.yaml': 'x: 1\n' });
    const three = await sync('Iterate three', {
      'services/recommender/config/rules/tuning.yaml': 'tuned: 12\n',
    });
    await waitFor(() => config.commit === three, { description: 'commit three applied' });
    const merged = await stream.next();
    expect(merged.value).toMatchObject({ commit: three, previousCommit: one });
    expect((merged.value as ConfigChange).files.map((file) => [file.file, file.kind, file.value])).toEqual([
      ['rules/extra.yaml', 'added', { x: 1 }],
      ['rules/tuning.yaml', 'modified', { tuned: 12 }],
    ]);
    const pending = stream.next();
    await config.close();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(() => config.watch('x', () => {})).toThrow(expect.objectContaining({ code: 'CLIENT_CLOSED' }));
  });

  it('refuses a whole commit that fails validation, keeps serving the last good one, and applies the next good one', async () => {
    const portSchema = {
      type: 'object',
      required: ['server'],
      properties: { server: { type: 'object', properties: { port: { type: 'integer' } } } },
    };
    const config = await open({
      validate: {
        'application.yaml': portSchema,
        'rules/tuning.yaml': (value) =>
          (value as { tuned?: unknown }).tuned === 'never' ? 'tuned must not be "never"' : undefined,
      },
    });
    const events = recordEvents(config);
    const good = config.commit;
    const bad = await sync('Break the port and change the blocklist', {
      'services/recommender/config/@dev/application.yaml':
        'logging:\n  level: warn\nserver:\n  port: eighty\n',
      'services/recommender/config/feature-flags.json': '{"changedInBadCommit": true}\n',
    });
    await waitFor(() => events.rejected.length === 1, { description: 'the rejected event' });
    expect(events.rejected[0]).toMatchObject({
      commit: bad,
      failures: [{ file: 'application.yaml', reason: expect.stringContaining('integer') }],
    });
    // Neither file of the refused commit is served: it is all or nothing.
    expect(config.commit).toBe(good);
    expect(config.get<{ server: { port: number } }>('application.yaml').server.port).toBe(8080);
    expect(config.get('feature-flags.json')).not.toHaveProperty('changedInBadCommit');
    expect(config.rejected).toMatchObject({ commit: bad });
    // The registration records the refusal soon after, off the callbacks' path.
    await waitFor(async () => (await instanceRecord(config))?.rejected?.commit === bad, {
      description: 'the registration to record the refused commit',
    });
    expect(await instanceRecord(config)).toMatchObject({ commit: good, rejected: { commit: bad } });

    const hook = await sync('A tuning the hook refuses', {
      'services/recommender/config/rules/tuning.yaml': 'tuned: never\n',
    });
    await waitFor(() => events.rejected.length === 2, { description: 'the hook refusing a commit' });
    expect(events.rejected[1]).toMatchObject({
      commit: hook,
      failures: expect.arrayContaining([{ file: 'rules/tuning.yaml', reason: 'tuned must not be "never"' }]),
    });

    const fixed = await sync('Fix the port and the tuning', {
      'services/recommender/config/@dev/application.yaml': 'logging:\n  level: warn\nserver:\n  port: 8081\n',
      'services/recommender/config/rules/tuning.yaml': 'tuned: again\n',
    });
    await waitFor(() => config.commit === fixed, { description: 'the fixed commit applied' });
    expect(events.changes).toHaveLength(1);
    expect(events.changes[0]?.files.map((file) => file.file)).toEqual([
      'application.yaml',
      'feature-flags.json',
      'rules/tuning.yaml',
    ]);
    expect(config.rejected).toBeUndefined();
    await waitFor(async () => (await instanceRecord(config))?.commit === fixed, {
      description: 'the registration to name the fixed commit',
    });
    expect((await instanceRecord(config))?.rejected).toBeUndefined();

    // A validated file may not disappear.
    const removal = await sync('Remove the tuning', {
      'services/recommender/config/rules/tuning.yaml': null,
    });
    await waitFor(() => events.rejected.length === 3, { description: 'the removal refused' });
    expect(events.rejected[2]).toMatchObject({
      commit: removal,
      failures: [{ file: 'rules/tuning.yaml', reason: expect.stringContaining('removed') }],
    });
    expect(config.get('rules/tuning.yaml')).toEqual({ tuned: 'again' });
    await sync('Restore the tuning', { 'services/recommender/config/rules/tuning.yaml': 'tuned: 3\n' });
  });

  it('registers the instance with host, pid, port and the commit it applied, updates it, and removes it on close', async () => {
    const config = await open({ instance: { host: 'rec-dev-01.dc1.northwind.internal', port: 18080 } });
    const path = config.instancePath as string;
    expect(path.startsWith('/cairn/instances/recommender/dev/rec-dev-01.dc1.northwind.internal-')).toBe(true);
    await waitFor(async () => (await instanceRecord(config))?.commit === config.commit, {
      description: 'the registration',
    });
    const record = (await instanceRecord(config)) as InstanceRecord;
    expect(record).toMatchObject({
      service: 'recommender',
      env: 'dev',
      host: 'rec-dev-01.dc1.northwind.internal',
      port: 18080,
      pid: process.pid,
      source: 'zookeeper',
    });
    expect(Date.parse(record.startedAt)).not.toBeNaN();
    expect(Object.keys(record.files)).toEqual(config.files());
    const { stat } = await f.session.get(path);
    expect(stat.ephemeralOwner).not.toBe(0n);

    const commit = await sync('Registration follows', {
      'services/recommender/config/rules/tuning.yaml': 'tuned: 4\n',
    });
    await waitFor(async () => (await instanceRecord(config))?.commit === commit, {
      description: 'the registration to name the new commit',
    });
    await config.close();
    expect(await f.session.exists(path)).toBeUndefined();
  });

  it('writes its cache and registration after the callbacks, not once per commit of a burst, and the newest snapshot on close', async () => {
    const cache = await tempDir('cairn-sdk-record-later-');
    const delay = recordTiming.delayMs;
    try {
      const config = await open({
        cacheDir: cache.dir,
        instance: { host: 'rec-dev-02.dc1.northwind.internal' },
      });
      const started = config.commit as string;
      await waitFor(async () => (await cachedCommit(cache.dir)) === started, {
        description: 'the first cache',
      });
      const path = config.instancePath as string;
      const registered = (await f.session.get(path)).stat.version;
      // Long enough that nothing below is written before the client closes.
      recordTiming.delayMs = 600_000;
      const one = await sync('Record later one', {
        'services/recommender/config/rules/tuning.yaml': 'tuned: 5\n',
      });
      await waitFor(() => config.commit === one, { description: 'commit one applied' });
      const two = await sync('Record later two', {
        'services/recommender/config/rules/tuning.yaml': 'tuned: 6\n',
      });
      await waitFor(() => config.commit === two, { description: 'commit two applied' });
      // Applied and delivered; the cache and the registration still wait.
      expect((await f.session.get(path)).stat.version).toBe(registered);
      expect(await instanceRecord(config)).toMatchObject({ commit: started });
      expect(await cachedCommit(cache.dir)).toBe(started);
      await config.close();
      // Closing writes the newest snapshot, not each one that waited.
      expect(await cachedCommit(cache.dir)).toBe(two);
    } finally {
      recordTiming.delayMs = delay;
      await cache.remove();
    }
  });

  it('names the files it has when asked for one it does not', async () => {
    const config = await open({ instance: false });
    expect(() => config.get('missing.yaml')).toThrow(
      expect.objectContaining({
        code: 'FILE_NOT_FOUND',
        message: expect.stringContaining('application.yaml'),
      }),
    );
    expect(() => config.bytes('missing.yaml')).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
  });

  it('rejects an unknown service or environment with ENVIRONMENT_NOT_FOUND', async () => {
    await expect(open({ service: 'no-such-service' })).rejects.toMatchObject({
      code: 'ENVIRONMENT_NOT_FOUND',
      message: expect.stringContaining('no-such-service'),
    });
    await expect(open({ env: 'qa' })).rejects.toMatchObject({ code: 'ENVIRONMENT_NOT_FOUND' });
  });

  it('rejects options that cannot work with INVALID_OPTIONS, from connect() as from the constructor', async () => {
    const options = { zk: f.zk.connectString, service: 'recommender', env: 'dev', instance: { port: 0 } };
    await expect(connect(options)).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      option: 'instance.port',
    });
    expect(() => new ServiceConfig(options)).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
    const config = await open({ instance: false });
    await expect(config.start()).rejects.toMatchObject({ code: 'CLIENT_ALREADY_STARTED' });
  });

  it('never shows a listener files from two commits, and always delivers the last of a burst', async () => {
    await sync('Start the pair', pair(0));
    const config = await open({ instance: false });
    const pairs = checkPairs(config);
    let last = '';
    for (let n = 1; n <= 8; n++) last = await sync(`Pair ${n}`, pair(n));
    await waitFor(() => config.commit === last, { description: 'the last commit of the burst' });
    expect(pairs.mixed).toEqual([]);
    expect(pairs.seen.at(-1)).toBe(8);
    expect(pairs.seen).toEqual([...pairs.seen].sort((a, b) => a - b));
  });

  it('reads a commit too large for one transaction whole, never half-staged', async () => {
    const config = await open({ instance: false });
    const pairs = checkPairs(config);
    // Two files of 500 KB (each stored once, whatever the number of environments): staged in several
    // transactions by the syncer.
    await f.work.write({
      ...pair(100, 'x'.repeat(500_000)),
      'services/recommender/config/pair/c.txt': 'y'.repeat(500_000),
    });
    const commit = await f.work.commit('A large pair');
    await f.work.push(f.repoUrl);
    expect(await mirror.sync()).toMatchObject({ kind: 'mirrored', staged: true });
    await waitFor(() => config.commit === commit, { description: 'the large commit', timeoutMs: 20_000 });
    expect(pairs.mixed).toEqual([]);
    expect(pairs.seen).toEqual([100]);
    await sync('Shrink the pair', { ...pair(101), 'services/recommender/config/pair/c.txt': null });
  });

  it('delivers the removal of every file when a commit retires the service, and keeps serving when ZooKeeper loses its data', async () => {
    const config = await open({ service: 'nightly-reports', instance: false });
    const events = recordEvents(config);
    const files = config.files();
    const tracked = (await f.work.git('ls-files', 'services/nightly-reports')).split('\n');
    const retired = await sync(
      'Retire nightly-reports',
      Object.fromEntries(tracked.map((path) => [path, null])),
    );
    await waitFor(() => config.commit === retired, { description: 'the retirement applied' });
    expect(events.changes[0]?.files.map((file) => [file.file, file.kind])).toEqual(
      files.map((file) => [file, 'removed']),
    );
    expect(config.files()).toEqual([]);

    const live = await open({ instance: false });
    const liveEvents = recordEvents(live);
    const before = live.commit;
    const pointer = f.layout.environment('recommender', 'dev');
    // Readers never read /head: losing it changes nothing for them.
    await f.session.remove(f.layout.head());
    // ZooKeeper loses the environment too (its data wiped): keep what works, and say so.
    await f.session.remove(pointer);
    await waitFor(() => liveEvents.warnings.some((w) => w.code === 'ENVIRONMENT_MISSING'), {
      description: 'an ENVIRONMENT_MISSING warning',
    });
    expect(live.commit).toBe(before);
    expect(live.get('application.yaml')).toBeTypeOf('object');
    await mirror.sync(); // the syncer writes the mirror again
    await waitFor(async () => (await f.session.exists(pointer)) !== undefined, {
      description: 'the pointer back',
    });
    // A pointer that cannot be read is reported and read again; the configuration stays.
    await f.session.set(pointer, Buffer.from('not a pointer'));
    await waitFor(() => liveEvents.warnings.some((w) => w.code === 'SNAPSHOT_READ_FAILED'), {
      description: 'a SNAPSHOT_READ_FAILED warning',
    });
    expect(live.get('application.yaml')).toBeTypeOf('object');
    // A syncer that reads ZooKeeper afresh (a new leader, or its periodic check) repairs it.
    expect(await mirror.mirror.sync({ ...mirror.target, term: 99 })).toMatchObject({ kind: 'mirrored' });
    const next = await sync('After the repair', {
      'services/recommender/config/rules/tuning.yaml': 'tuned: 5\n',
    });
    await waitFor(() => live.commit === next, { description: 'the next commit applied' });
    expect(liveEvents.changes.map((change) => change.commit)).toEqual([next]);
  });

  async function cachedCommit(dir: string): Promise<string | undefined> {
    try {
      const decoded = decodeCacheFile(await readFile(join(dir, 'recommender@dev.cairn-cache')), {
        service: 'recommender',
        env: 'dev',
      });
      return decoded.ok ? decoded.snapshot.change.commit : undefined;
    } catch {
      return undefined;
    }
  }

  async function instanceRecord(config: ServiceConfig): Promise<InstanceRecord | undefined> {
    try {
      return JSON.parse((await f.session.get(config.instancePath as string)).data.toString('utf8'));
    } catch {
      return undefined;
    }
  }
});
