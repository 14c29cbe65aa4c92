import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARSE_RULES_VERSION, ZkSession } from '../../core/index.js';
import { decodeCacheFile, encodeCacheFile } from '../../sdk/cache-file.js';
import { type ConnectOptions, connect, ServiceConfig } from '../../sdk/index.js';
import { waitFor } from '../harness/index.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { makeReadOnly } from './read-only-dir.js';
import { type BoundMirror, boundMirror, commitAndSync, recordEvents, tempDir } from './sdk-test-support.js';

const CACHE_FILE = 'recommender@dev.cairn-cache';

describe('the local cache of the last good configuration', () => {
  let f: SyncerFixture;
  let mirror: BoundMirror;
  let root: { dir: string; remove: () => Promise<void> };
  const clients: ServiceConfig[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = boundMirror(f);
    await mirror.sync();
    root = await tempDir('cairn-sdk-cache-');
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await f?.close();
    await root?.remove();
  });

  const options = (cacheDir: string | undefined, extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
    zk: f.zk.connectString,
    service: 'recommender',
    env: 'dev',
    sessionTimeoutMs: 4000,
    ...(cacheDir !== undefined ? { cacheDir } : {}),
    ...extra,
  });
  /** Created and subscribed before start(), to hear what happens while starting. */
  const create = (cacheDir: string | undefined, extra: Partial<ConnectOptions> = {}) => {
    const config = new ServiceConfig(options(cacheDir, extra));
    clients.push(config);
    return { config, events: recordEvents(config) };
  };
  const cachedCommit = async (dir: string) => {
    const decoded = decodeCacheFile(await readFile(join(dir, CACHE_FILE)), {
      service: 'recommender',
      env: 'dev',
    });
    return decoded.ok ? decoded.snapshot.change.commit : `corrupt: ${decoded.reason}`;
  };
  const sync = (message: string, files: Record<string, string | null>) =>
    commitAndSync(f, mirror, message, files);

  it('writes the last good snapshot atomically to a cacheDir it creates, and rewrites it after each change', async () => {
    const dir = join(root.dir, 'created', 'on', 'demand');
    const config = await connect(options(dir));
    clients.push(config);
    await waitFor(async () => (await cachedCommit(dir)) === config.commit, {
      description: 'the first cache write',
    });
    const commit = await sync('Cache follows', { 'services/recommender/config/rules/cached.yaml': 'v: 1\n' });
    await waitFor(async () => (await cachedCommit(dir)) === commit, { description: 'the cache rewritten' });
    const decoded = decodeCacheFile(await readFile(join(dir, CACHE_FILE)), {
      service: 'recommender',
      env: 'dev',
    });
    expect(decoded.ok && Buffer.from(decoded.snapshot.files.get('rules/cached.yaml') ?? []).toString()).toBe(
      'v: 1\n',
    );
    expect(await readdir(dir)).toEqual([CACHE_FILE]); // no temp file left behind
    await config.close();
  });

  it('keeps running on a read-only cacheDir, warning once, and on a cacheDir that cannot be created', async () => {
    const dir = join(root.dir, 'read-only');
    await connect(options(dir, { instance: false })).then((c) => c.close());
    const undo = await makeReadOnly(dir);
    try {
      const { config, events } = create(dir, { instance: false });
      await config.start();
      // The cache already holds what ZooKeeper serves: nothing to write yet.
      expect(events.warnings).toEqual([]);
      const commit = await sync('Change under a read-only cache', {
        'services/recommender/config/rules/cached.yaml': 'v: 2\n',
      });
      await waitFor(() => config.commit === commit, { description: 'the change applied anyway' });
      expect(config.get('rules/cached.yaml')).toEqual({ v: 2 });
      await waitFor(() => events.warnings.some((w) => w.code === 'CACHE_UNWRITABLE'), {
        description: 'a CACHE_UNWRITABLE warning',
      });
      await config.close();
      expect(events.warnings.filter((w) => w.code === 'CACHE_UNWRITABLE')).toHaveLength(1);
    } finally {
      await undo();
    }

    const blocker = join(root.dir, 'a-file');
    await writeFile(blocker, 'not a directory');
    const { config, events } = create(join(blocker, 'cache'), { instance: false });
    await config.start();
    await waitFor(() => events.warnings.some((w) => w.code === 'CACHE_UNWRITABLE'), {
      description: 'a CACHE_UNWRITABLE warning for a cacheDir under a file',
    });
    expect(config.get('rules/cached.yaml')).toEqual({ v: 2 });
    await config.close();
  });

  it('does not rewrite a cache that already holds what ZooKeeper serves', async () => {
    const dir = join(root.dir, 'unchanged');
    await connect(options(dir, { instance: false })).then((c) => c.close());
    const written = await stat(join(dir, CACHE_FILE));
    // close() finishes any cache write, so a rewrite would have replaced the file (a new inode).
    const again = await connect(options(dir, { instance: false }));
    expect(again.source).toBe('zookeeper');
    await again.close();
    const after = await stat(join(dir, CACHE_FILE));
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it('serves ZooKeeper, not a corrupt cache, and rewrites the cache', async () => {
    const dir = join(root.dir, 'corrupt-while-up');
    const valid = await connect(options(dir, { instance: false }));
    await waitFor(async () => (await cachedCommit(dir)) === valid.commit, { description: 'a cache' });
    await valid.close();
    await writeFile(join(dir, CACHE_FILE), 'garbage\n{}');
    const { config, events } = create(dir, { instance: false });
    await config.start();
    expect(config.source).toBe('zookeeper');
    expect(events.warnings.map((w) => w.code)).toEqual(['CACHE_CORRUPT']);
    await waitFor(async () => (await cachedCommit(dir)) === config.commit, {
      description: 'the cache repaired',
    });
    await config.close();
  });

  it('starts from a cache that passes validation when what ZooKeeper holds does not, and fails without one', async () => {
    // ZooKeeper holds rules/cached.yaml at v: 2; the service now only accepts v: 1.
    const onlyOne = {
      'rules/cached.yaml': (value: unknown) => (value as { v: number }).v === 1 || 'only v: 1',
    };
    await expect(connect(options(undefined, { instance: false, validate: onlyOne }))).rejects.toMatchObject({
      code: 'CONFIG_REJECTED',
      failures: [{ file: 'rules/cached.yaml', reason: 'only v: 1' }],
    });

    const dir = join(root.dir, 'validated');
    const current = await connect(options(dir, { instance: false }));
    await waitFor(async () => (await cachedCommit(dir)) === current.commit, { description: 'a cache' });
    await current.close();
    const decoded = decodeCacheFile(await readFile(join(dir, CACHE_FILE)), {
      service: 'recommender',
      env: 'dev',
    });
    if (!decoded.ok) throw new Error(decoded.reason);
    const older = { ...decoded.snapshot.change, commit: 'b'.repeat(40) };
    const files = new Map(decoded.snapshot.files).set('rules/cached.yaml', Buffer.from('v: 1\n'));
    // The files changed: their ids are hashed again, not taken from the decoded cache.
    const { service, env } = decoded.snapshot;
    await writeFile(join(dir, CACHE_FILE), encodeCacheFile({ service, env, change: older, files }));

    const { config, events } = create(dir, { instance: false, validate: onlyOne });
    await config.start();
    expect(config.source).toBe('cache');
    expect(config.commit).toBe(older.commit);
    expect(config.get('rules/cached.yaml')).toEqual({ v: 1 });
    expect(events.rejected).toMatchObject([{ commit: current.commit, failures: [{ reason: 'only v: 1' }] }]);
    expect(config.rejected?.commit).toBe(current.commit);
    await config.close();
  });

  describe('with ZooKeeper down', () => {
    let before: string;
    let after: string;
    let dir: string;
    beforeAll(async () => {
      // A service ran at `before` and cached it; `after` was mirrored while it was stopped.
      dir = join(root.dir, 'outage');
      const config = await connect(options(dir));
      before = config.commit as string;
      await waitFor(async () => (await cachedCommit(dir)) === before, { description: 'the cache' });
      await config.close();
      after = await sync('Mirrored while the service was stopped', {
        'services/recommender/config/rules/cached.yaml': 'v: 3\n',
      });
      await f.zk.stop();
    });
    afterAll(async () => {
      await f.zk.restart();
    });

    it('starts from the cache, says so, and catches up once ZooKeeper is back', async () => {
      const { config, events } = create(dir, { connectTimeoutMs: 1000 });
      await config.start();
      expect(config.source).toBe('cache');
      expect(config.commit).toBe(before);
      expect(config.get('rules/cached.yaml')).toEqual({ v: 2 });
      expect(events.sources).toEqual(['cache']);
      expect(events.warnings.map((w) => w.code)).toEqual(['ZOOKEEPER_UNREACHABLE']);

      await f.zk.restart();
      // A session of its own: the fixture's may not survive the restart (see openMirror).
      const observer = await ZkSession.connect({ connectString: f.zk.connectString });
      try {
        await waitFor(() => config.commit === after, { description: 'catching up after ZooKeeper returns' });
        expect(config.source).toBe('zookeeper');
        expect(events.sources).toEqual(['cache', 'zookeeper']);
        expect(events.changes).toHaveLength(1);
        expect(events.changes[0]).toMatchObject({
          commit: after,
          previousCommit: before,
          files: [{ file: 'rules/cached.yaml', kind: 'modified', value: { v: 3 }, previousValue: { v: 2 } }],
        });
        await waitFor(async () => (await cachedCommit(dir)) === after, { description: 'the cache updated' });
        const record = await waitFor(
          async () => JSON.parse((await observer.get(config.instancePath as string)).data.toString()),
          { description: 'the registration' },
        );
        expect(record).toMatchObject({ commit: after, source: 'zookeeper' });
        await config.close();
      } finally {
        await observer.close();
        await f.zk.stop();
      }
    });

    it('rejects within its deadline, naming the ensemble and the cacheDir, when there is no cache', async () => {
      const empty = join(root.dir, 'empty');
      const started = Date.now();
      const error = await connect(options(empty, { connectTimeoutMs: 700 })).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(error).toMatchObject({
        code: 'ZOOKEEPER_UNREACHABLE',
        connectString: f.zk.connectString,
        cacheDir: empty,
      });
      expect((error as Error).message).toContain(f.zk.connectString);
      expect((error as Error).message).toContain(empty);
      const without = await connect(options(undefined, { connectTimeoutMs: 300 })).catch((e: unknown) => e);
      expect((without as Error).message).toContain('no cacheDir was given');
    });

    it('parses the files of a cache written under other parse rules at start, and does not use it when one fails', async () => {
      const decoded = decodeCacheFile(await readFile(join(dir, CACHE_FILE)), {
        service: 'recommender',
        env: 'dev',
      });
      if (!decoded.ok) throw new Error(decoded.reason);
      const { service, env, change } = decoded.snapshot;
      const files = new Map(decoded.snapshot.files).set('rules/cached.yaml', Buffer.from('v: [\n'));
      /** The cache, as written under `rules` (checksum included). */
      const underRules = (rules: number) => {
        const text = Buffer.from(encodeCacheFile({ service, env, change, files })).toString('latin1');
        const body = Buffer.from(
          text
            .slice(text.indexOf('\n') + 1)
            .replace(`"parseRules":${PARSE_RULES_VERSION}`, `"parseRules":${rules}`),
          'latin1',
        );
        const checksum = createHash('sha256').update(body).digest('hex');
        return Buffer.concat([Buffer.from(`cairn-sdk-cache 3 ${checksum}\n`), body]);
      };
      const start = async (name: string, rules: number) => {
        const at = join(root.dir, name);
        await mkdir(at, { recursive: true });
        await writeFile(join(at, CACHE_FILE), underRules(rules));
        const { config } = create(at, { connectTimeoutMs: 300, instance: false });
        return config.start().then(
          () => config,
          (error: unknown) => error,
        );
      };
      // Under the same rules the files parsed when the snapshot was applied: parsed on first use.
      const same = await start('rules-same', PARSE_RULES_VERSION);
      expect((same as ServiceConfig).source).toBe('cache');
      expect(() => (same as ServiceConfig).get('rules/cached.yaml')).toThrow(
        /cannot parse rules\/cached\.yaml/,
      );
      // Under other rules every file is parsed at start, and a file that fails keeps the cache out.
      expect(await start('rules-other', PARSE_RULES_VERSION + 1)).toMatchObject({
        code: 'ZOOKEEPER_UNREACHABLE',
      });
    });

    it('never serves a corrupt cache: garbage, a truncated file, a flipped byte, another service’s file', async () => {
      const good = await readFile(join(dir, CACHE_FILE));
      const decoded = decodeCacheFile(good, { service: 'recommender', env: 'dev' });
      if (!decoded.ok) throw new Error(decoded.reason);
      const flipped = Buffer.from(good);
      flipped[flipped.length - 10] = (flipped[flipped.length - 10] as number) ^ 0x01;
      const corruptions: Record<string, Uint8Array> = {
        garbage: Buffer.from('\u0000\u0001 not a cache at all'),
        truncated: good.subarray(0, good.length - 20),
        flipped,
        other: encodeCacheFile({ ...decoded.snapshot, service: 'search-api' }),
        empty: Buffer.alloc(0),
      };
      for (const [name, bytes] of Object.entries(corruptions)) {
        const corrupt = join(root.dir, `corrupt-${name}`);
        await mkdir(corrupt, { recursive: true });
        await writeFile(join(corrupt, CACHE_FILE), bytes);
        const { config, events } = create(corrupt, { connectTimeoutMs: 300 });
        await expect(config.start(), name).rejects.toMatchObject({ code: 'ZOOKEEPER_UNREACHABLE' });
        expect(
          events.warnings.map((w) => w.code),
          name,
        ).toEqual(['CACHE_CORRUPT']);
      }
      // A directory where the file should be cannot be read at all.
      const blocked = join(root.dir, 'unreadable');
      await mkdir(join(blocked, CACHE_FILE), { recursive: true });
      const { config, events } = create(blocked, { connectTimeoutMs: 300 });
      await expect(config.start()).rejects.toMatchObject({ code: 'ZOOKEEPER_UNREACHABLE' });
      expect(events.warnings.map((w) => w.code)).toEqual(['CACHE_UNREADABLE']);
    });
  });
});
