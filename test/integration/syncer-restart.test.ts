import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openValidationCache, VALIDATION_CACHE_FILE } from '../../syncer/validation-cache.js';
import { quietLogger, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

describe('a syncer that restarts', () => {
  let f: SyncerFixture;
  beforeAll(async () => {
    f = await startSyncerFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  const restartedMirror = async () =>
    f.newMirror({ validationCache: await openValidationCache(f.cacheDir, quietLogger) });

  it('parses no file again when nothing changed, and serves the same', async () => {
    const first = await (await restartedMirror()).sync(f.target);
    expect(first).toMatchObject({ kind: 'mirrored' });
    expect(first.kind === 'mirrored' && first.filesParsed).toBeGreaterThan(20);

    const restarted = await (await restartedMirror()).sync(f.target);
    expect(restarted).toMatchObject({ kind: 'up-to-date', filesParsed: 0 });
    expect(await f.actualView()).toEqual(await f.expectedView());
  });

  it('parses only the changed file and its overlays after a restart that finds a new commit', async () => {
    await f.work.write({ 'services/recommender/config/rules/blocklist.yaml': 'blocked: [spam]\n' });
    await f.work.commit('Block spam');
    await f.work.push(f.repoUrl);
    const outcome = await (await restartedMirror()).sync(f.target);
    expect(outcome).toMatchObject({ kind: 'mirrored', filesParsed: 1 });
    expect(await f.actualView()).toEqual(await f.expectedView());
  });

  it('parses everything again, and still mirrors, when the cache file is corrupt', async () => {
    await writeFile(join(f.cacheDir, VALIDATION_CACHE_FILE), 'not json');
    const outcome = await (await restartedMirror()).sync(f.target);
    expect(outcome.kind).toBe('up-to-date');
    expect(outcome.kind !== 'refused' && outcome.filesParsed).toBeGreaterThan(20);
    const again = await (await restartedMirror()).sync(f.target);
    expect(again).toMatchObject({ kind: 'up-to-date', filesParsed: 0 });
  });
});
