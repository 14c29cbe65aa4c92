import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BATCHED_READS } from '../../core/zookeeper/read-batch.js';
import { decodeCacheFile } from '../../sdk/cache-file.js';
import { type ConnectOptions, connect, ServiceConfig } from '../../sdk/index.js';
import { waitFor } from '../harness/index.js';
import { lastRequestIds, watchesBySession } from '../support/server-sessions.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { type BoundMirror, boundMirror, commitAndSync, recordEvents, tempDir } from './sdk-test-support.js';

const FILES = 200;
const many = (tag: string) =>
  Object.fromEntries(
    Array.from({ length: FILES }, (_, i) => [`services/search-api/config/words/${i}.txt`, `${tag} ${i}\n`]),
  );

describe('a client that starts from a cache ZooKeeper confirms', () => {
  let f: SyncerFixture;
  let mirror: BoundMirror;
  let cache: { dir: string; remove: () => Promise<void> };
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = boundMirror(f);
    await mirror.sync();
    await commitAndSync(f, mirror, 'Many words', many('word'));
    cache = await tempDir('cairn-sdk-confirmed-');
  });
  afterAll(async () => {
    await f?.close();
    await cache?.remove();
  });

  const options = (): ConnectOptions => ({
    zk: f.zk.connectString,
    service: 'search-api',
    env: 'dev',
    cacheDir: cache.dir,
    instance: false,
  });

  /** Connects, and counts the requests the client's new session sent by the time connect() resolved. */
  const connectCounting = async (): Promise<{ client: ServiceConfig; requests: bigint }> => {
    const before = await lastRequestIds(f.zk.port);
    const client = await connect(options());
    const added = [...(await lastRequestIds(f.zk.port))].filter(([sid]) => !before.has(sid));
    expect(added).toHaveLength(1);
    return { client, requests: (added[0] as [string, bigint])[1] };
  };

  it('reads nothing but the pointer when the pointer names the manifest it holds', async () => {
    const cold = await connectCounting();
    const files = cold.client.files();
    expect(files.length).toBeGreaterThan(FILES);
    // Cold: the pointer, the manifest, and every file (read MAX_BATCHED_READS to a request).
    expect(cold.requests).toBeGreaterThanOrEqual(2n + BigInt(Math.ceil(FILES / MAX_BATCHED_READS)));
    await cold.client.close();

    const warm = await connectCounting();
    expect(warm.client.source).toBe('zookeeper');
    expect(warm.client.files()).toEqual(files);
    expect(warm.client.get('words/7.txt')).toBe('word 7\n');
    // One request: the pointer, which names the manifest the cache holds (no manifest, no content).
    expect(warm.requests).toBe(1n);
    await warm.client.close();
  });

  it('reads only the content whose id changed when the pointer moved on', async () => {
    const commit = await commitAndSync(f, mirror, 'One word changes', {
      'services/search-api/config/words/7.txt': 'changed 7\n',
    });
    const next = await connectCounting();
    expect(next.client.commit).toBe(commit);
    expect(next.client.get('words/7.txt')).toBe('changed 7\n');
    expect(next.client.get('words/8.txt')).toBe('word 8\n');
    // The pointer, the new manifest, the changed file: a handful, not the environment.
    expect(next.requests).toBeLessThanOrEqual(5n);
    await next.client.close();
  });

  it('confirms a cache of the previous format (no content ids) with the same one read, and rewrites it in the current one', async () => {
    const path = join(cache.dir, 'search-api@dev.cairn-cache');
    const decoded = decodeCacheFile(await readFile(path), { service: 'search-api', env: 'dev' });
    if (!decoded.ok) throw new Error(decoded.reason);
    const { change, files } = decoded.snapshot;
    const index = {
      service: 'search-api',
      env: 'dev',
      change,
      files: [...files].map(([file, bytes]) => [file, bytes.length]),
    };
    const body = Buffer.concat([Buffer.from(`${JSON.stringify(index)}\n`), ...files.values()]);
    const checksum = createHash('sha256').update(body).digest('hex');
    await writeFile(path, Buffer.concat([Buffer.from(`cairn-sdk-cache 2 ${checksum}\n`), body]));

    const warm = await connectCounting();
    expect(warm.client.source).toBe('zookeeper');
    expect(warm.client.commit).toBe(change.commit);
    expect(warm.client.get('words/7.txt')).toBe('changed 7\n');
    expect(warm.requests).toBe(1n);
    // Rewritten in the current format at the start, though ZooKeeper confirmed what it holds.
    await warm.client.close();
    expect((await readFile(path)).subarray(0, 18).toString()).toBe('cairn-sdk-cache 4 ');
    expect(decodeCacheFile(await readFile(path), { service: 'search-api', env: 'dev' })).toMatchObject({
      ok: true,
      snapshot: { change },
    });
  });

  const expected = { service: 'search-api', env: 'dev' };
  const cacheIn = (dir: string) => join(dir, 'search-api@dev.cairn-cache');

  /** A cache a client wrote, then one bit of `file`'s bytes flipped, the index intact: what a bad disk does. */
  const damagedCache = async (file: string) => {
    const own = await tempDir('cairn-sdk-damaged-');
    const cold = await connect({ ...options(), cacheDir: own.dir });
    const right = cold.get<string>(file);
    await cold.close();
    const bytes = await readFile(cacheIn(own.dir));
    const decoded = decodeCacheFile(bytes, expected);
    if (!decoded.ok) throw new Error(decoded.reason);
    // The files are views of the bytes decoded.
    const at = (decoded.snapshot.files.get(file) as Uint8Array).byteOffset - bytes.byteOffset;
    bytes[at] = (bytes[at] as number) ^ 0x02;
    await writeFile(cacheIn(own.dir), bytes);
    return { ...own, right };
  };

  /** Whether the cache in `dir` holds `file` with the bytes of `text`. */
  const cachedAs = async (dir: string, file: string, text: string) => {
    const decoded = decodeCacheFile(await readFile(cacheIn(dir)), expected);
    return decoded.ok && Buffer.from(decoded.snapshot.files.get(file) as Uint8Array).toString() === text;
  };

  it('never serves a file whose cached bytes fail their id: reads that file alone again, and rewrites the cache', async () => {
    const own = await damagedCache('words/9.txt');
    const before = await lastRequestIds(f.zk.port);
    const config = new ServiceConfig({ ...options(), cacheDir: own.dir });
    const events = recordEvents(config);
    await config.start();
    expect(config.source).toBe('zookeeper');
    // Asked at once, before the check after the start reached it: checked on first use, refused.
    expect(() => config.get('words/9.txt')).toThrow(expect.objectContaining({ code: 'FILE_DAMAGED' }));
    expect(() => config.bytes('words/9.txt')).toThrow(expect.objectContaining({ code: 'FILE_DAMAGED' }));
    expect(config.get('words/8.txt')).toBe('word 8\n');
    await waitFor(
      () => {
        try {
          return config.get('words/9.txt') === own.right;
        } catch (error) {
          if ((error as { code?: string }).code !== 'FILE_DAMAGED') throw error;
          return false;
        }
      },
      { description: 'the damaged file read again from ZooKeeper', timeoutMs: 30_000 },
    );
    expect(events.warnings.map((w) => w.code)).toEqual(['CACHE_CORRUPT']);
    expect(events.warnings[0]?.message).toContain('words/9.txt');
    // The pointer at the start; then the pointer, the manifest and the one file: not the environment.
    const added = [...(await lastRequestIds(f.zk.port))].filter(([sid]) => !before.has(sid));
    expect(added).toHaveLength(1);
    expect((added[0] as [string, bigint])[1]).toBeLessThanOrEqual(5n);
    await waitFor(() => cachedAs(own.dir, 'words/9.txt', own.right), {
      description: 'the cache rewritten with the right bytes',
      timeoutMs: 30_000,
    });
    await config.close();
    await own.remove();
  });

  it('finds a damaged file by itself after the start, though nothing asks for it, and repairs it', async () => {
    const own = await damagedCache('words/11.txt');
    const config = new ServiceConfig({ ...options(), cacheDir: own.dir });
    const events = recordEvents(config);
    await config.start();
    await waitFor(() => events.warnings.length > 0, {
      description: 'the check after the start to find the damaged file',
      timeoutMs: 30_000,
    });
    expect(events.warnings.map((w) => w.code)).toEqual(['CACHE_CORRUPT']);
    expect(events.warnings[0]?.message).toContain('words/11.txt');
    await waitFor(() => cachedAs(own.dir, 'words/11.txt', own.right), {
      description: 'the cache rewritten with the right bytes',
      timeoutMs: 30_000,
    });
    expect(config.get('words/11.txt')).toBe(own.right);
    await config.close();
    await own.remove();
  });

  it('reads the pointer while its cache is still being read', async () => {
    // A named pipe as the cache: reading it waits until the test opens its other end.
    const slow = await tempDir('cairn-sdk-slow-cache-');
    const pipe = join(slow.dir, 'search-api@dev.cairn-cache');
    await promisify(execFile)('mkfifo', [pipe]);
    const pointer = f.layout.environment('search-api', 'dev');
    // The sessions watching the pointer, by id: compared as sets, since an earlier test's session
    // may still be closing (a count would miss the new one as the old one goes).
    const watching = async () =>
      [...(await watchesBySession(f.zk.port)).entries()]
        .filter(([, paths]) => paths.includes(pointer))
        .map(([session]) => session);
    const before = new Set(await watching());
    const config = new ServiceConfig({ ...options(), cacheDir: slow.dir });
    const events = recordEvents(config);
    const started = config.start();
    try {
      try {
        // The pointer's read sets its watch: it was sent while the cache is still unread.
        await waitFor(async () => (await watching()).some((session) => !before.has(session)), {
          description: 'the pointer read (its watch set) before the cache is read',
          timeoutMs: 30_000,
        });
      } finally {
        // Nothing written: the cache reads empty, is ignored, and the client serves ZooKeeper's.
        await (await open(pipe, 'w')).close();
      }
      await started;
      expect(config.source).toBe('zookeeper');
      expect(config.get('words/8.txt')).toBe('word 8\n');
      expect(events.warnings.map((w) => w.code)).toEqual(['CACHE_CORRUPT']);
    } finally {
      await started.catch(() => undefined);
      await config.close();
      await slow.remove();
    }
  });
});
