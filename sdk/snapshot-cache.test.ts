import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
});
