import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { contentId } from '../core/index.js';
import type { CachedSnapshot } from './cache-file.js';
import type { SdkWarning } from './errors.js';
import { SnapshotCache } from './snapshot-cache.js';

const snapshot: CachedSnapshot = {
  service: 'recommender',
  env: 'prod',
  change: {
    commit: 'a'.repeat(40),
    author: { name: 'Ada', email: 'ada@example.com' },
    message: 'Tune the ranking',
    time: '2025-01-01T00:00:00Z',
  },
  files: new Map([['application.yaml', Buffer.from('server:\n  port: 8080\n')]]),
};

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

describe('SnapshotCache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes nothing once closed, not even the retry of a write that failed before', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const scratch = await mkdtemp(join(tmpdir(), 'cairn-snapshot-cache-'));
    try {
      // A file where the cache's folder should be: the first write fails, and a retry is scheduled.
      const blocker = join(scratch, 'cache');
      await writeFile(blocker, 'not a folder');
      const warnings: SdkWarning[] = [];
      const cache = new SnapshotCache(join(blocker, 'dir'), 'recommender', 'prod', (w) => warnings.push(w));
      cache.write(snapshot);
      await vi.waitFor(() => expect(warnings.map((w) => w.code)).toEqual(['CACHE_UNWRITABLE']));
      await cache.close();

      // The folder could be made now; the retry's time comes, and another write is asked for.
      await rm(blocker);
      vi.runAllTimers();
      cache.write(snapshot);
      await cache.close();
      expect(await exists(blocker)).toBe(false);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('finishes the write queued before it closes', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'cairn-snapshot-cache-'));
    try {
      const cache = new SnapshotCache(join(scratch, 'made', 'on', 'demand'), 'recommender', 'prod', () => {});
      cache.write(snapshot);
      await cache.close();
      expect(await exists(cache.path)).toBe(true);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  it('removes at start the temp files of its service@env left by a process that is gone, and nothing else', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'cairn-snapshot-cache-'));
    const alive = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      const gone = spawnSync('true').pid;
      const stale = [
        `.recommender@prod.${gone}.0a1b2c3d.tmp`,
        // This very pid, but no write of this process: an earlier process had the same pid.
        `.recommender@prod.${process.pid}.0a1b2c3d.tmp`,
      ];
      const kept = [
        // A live process's write in progress (another process sharing the cache directory).
        `.recommender@prod.${alive.pid}.0a1b2c3d.tmp`,
        // Another service's or environment's: not this cache's to judge.
        `.recommender@staging.${gone}.0a1b2c3d.tmp`,
        `.ranker@prod.${gone}.0a1b2c3d.tmp`,
        // Look-alikes that are not names the cache writes.
        `.recommender@prod.${gone}.0a1b2c3.tmp`,
        `.recommender@prod.${gone}.0a1b2c3d.tmp.bak`,
        `recommender@prod.${gone}.0a1b2c3d.tmp`,
        `.recommender@prod.x${gone}.0a1b2c3d.tmp`,
        'recommender@prod.cairn-cache.orig',
      ];
      for (const name of [...stale, ...kept]) await writeFile(join(scratch, name), 'partial');
      // A folder with a temp file's name is no temp file.
      await mkdir(join(scratch, `.recommender@prod.${gone}.ffffffff.tmp`));

      const cache = new SnapshotCache(scratch, 'recommender', 'prod', () => {});
      expect(await cache.read()).toEqual({ kind: 'missing' });
      expect((await readdir(scratch)).sort()).toEqual(
        [...kept, `.recommender@prod.${gone}.ffffffff.tmp`].sort(),
      );
      await cache.close();
    } finally {
      alive.kill();
      await once(alive, 'exit');
      await rm(scratch, { recursive: true, force: true });
    }
  });
});

describe('SnapshotCache.read of a cache of many chunks (the index decoded while the bytes are read)', () => {
  /** About 3 MB of files, so the index arrives long before the last file's bytes. */
  const large: CachedSnapshot = {
    ...snapshot,
    files: new Map(
      Array.from({ length: 3000 }, (_, i) => [
        `words/${String(i).padStart(4, '0')}.txt`,
        Buffer.from(`${i} ${'w'.repeat(1000)}\n`),
      ]),
    ),
  };
  let scratch: string;
  let cache: SnapshotCache;
  let good: Buffer;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cairn-snapshot-cache-large-'));
    cache = new SnapshotCache(scratch, 'recommender', 'prod', () => {});
    cache.write(large);
    await cache.close();
    good = await readFile(cache.path);
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('reads it back whole', async () => {
    await writeFile(cache.path, good);
    const read = await cache.read();
    if (read.kind !== 'hit') throw new Error(`expected a hit, got ${JSON.stringify(read)}`);
    expect(read.snapshot.files.size).toBe(3000);
    expect(Buffer.from(read.snapshot.files.get('words/2999.txt') as Uint8Array).toString()).toBe(
      `2999 ${'w'.repeat(1000)}\n`,
    );
  });

  it('leaves a flipped byte of the last file to that file’s content id, and never reads a cut-off end', async () => {
    const flipped = Buffer.from(good);
    flipped[flipped.length - 10] = (flipped[flipped.length - 10] as number) ^ 1;
    await writeFile(cache.path, flipped);
    const read = await cache.read();
    if (read.kind !== 'hit') throw new Error(`expected a hit, got ${JSON.stringify(read)}`);
    expect(read.snapshot.contentsUnchecked).toBe(true);
    const last = read.snapshot.files.get('words/2999.txt') as Uint8Array;
    expect(contentId(last)).not.toBe(read.snapshot.contentIds?.get('words/2999.txt'));
    await writeFile(cache.path, good.subarray(0, good.length - 10));
    expect(await cache.read()).toMatchObject({ kind: 'corrupt' });
  });
});
