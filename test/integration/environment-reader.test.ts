import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_READS_IN_FLIGHT } from '../../core/environment-reader.js';
import {
  contentId,
  encodeEnvironmentManifest,
  encodeEnvironmentPointer,
  readEnvironment,
  ZkLayout,
  ZkSession,
} from '../../core/index.js';
import { startZooKeeper, type ZooKeeperServer } from '../harness/index.js';

const FILES = CONTENT_READS_IN_FLIGHT * 3;

describe('readEnvironment of a large environment', () => {
  let zk: ZooKeeperServer;
  let session: ZkSession;
  const layout = new ZkLayout('/cairn');
  const files = new Map<string, Uint8Array>();
  beforeAll(async () => {
    zk = await startZooKeeper();
    session = await ZkSession.connect({ connectString: zk.connectString });
    const ids = new Map<string, string>();
    for (let i = 0; i < FILES; i++) {
      const path = `rules/${String(i).padStart(4, '0')}.yaml`;
      const bytes = Buffer.from(`rule: ${i}\n`);
      files.set(path, bytes);
      ids.set(path, contentId(bytes));
    }
    const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/'));
    const create = async (path: string, bytes: Uint8Array) => {
      await session.mkdirp(parentOf(path));
      await session.create(path, bytes);
    };
    await Promise.all(
      [...files].map(([path, bytes]) => create(layout.content(ids.get(path) as string), bytes)),
    );
    const manifest = encodeEnvironmentManifest({ files: ids });
    await create(layout.content(contentId(manifest)), manifest);
    await create(
      layout.environment('search-api', 'dev'),
      encodeEnvironmentPointer({
        revision: {
          commit: 'a'.repeat(40),
          author: { name: 'Ada', email: 'ada@example.com' },
          message: 'Add rules',
          time: new Date(0).toISOString(),
        },
        manifest: contentId(manifest),
        files: FILES,
        bytes: [...files.values()].reduce((sum, bytes) => sum + bytes.length, 0),
      }),
    );
  });
  afterAll(async () => {
    await session?.close();
    await zk?.close();
  });

  it(`reads every file, with at most ${CONTENT_READS_IN_FLIGHT} content reads in flight at once`, async () => {
    // The session itself, with its reads counted while they are in flight.
    let inFlight = 0;
    let most = 0;
    const counted = Object.create(session) as ZkSession;
    counted.get = async (path, watcher) => {
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        return await session.get(path, watcher);
      } finally {
        inFlight--;
      }
    };
    const read = await readEnvironment(counted, layout, 'search-api', 'dev');
    if (read.kind !== 'snapshot') throw new Error(`expected a snapshot, got ${read.kind}`);
    expect(read.snapshot.files.size).toBe(FILES);
    for (const [path, bytes] of files)
      expect(Buffer.from(read.snapshot.files.get(path) ?? [])).toEqual(bytes);
    expect(most).toBeLessThanOrEqual(CONTENT_READS_IN_FLIGHT);
    expect(most).toBeGreaterThan(1);
  });
});
