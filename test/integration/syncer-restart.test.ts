import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GitSource, openGitSource } from '../../syncer/git/index.js';
import { Mirror } from '../../syncer/mirror.js';
import { checkBranch } from '../../syncer/preflight.js';
import { openValidationCache, VALIDATION_CACHE_FILE } from '../../syncer/validation-cache.js';
import { waitFor } from '../harness/index.js';
import { quietLogger, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

describe('a syncer that restarts', () => {
  let f: SyncerFixture;
  beforeAll(async () => {
    f = await startSyncerFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  /** The fixture's repository through a git source whose fetches wait for the test, and the trees read through it. */
  const gatedSource = () => {
    // Whatever is read before the fetch ends was read from the clone alone.
    const real = openGitSource({ url: f.repoUrl, branch: 'main', cacheDir: f.cacheDir });
    let releaseFetch = () => {};
    const fetchReleased = new Promise<void>((resolve) => {
      releaseFetch = resolve;
    });
    const treesRead: string[] = [];
    const source: GitSource = {
      fetchHead: async () => {
        await fetchReleased;
        return real.fetchHead();
      },
      cachedHead: () => real.cachedHead(),
      announceHead: (commit) => real.announceHead(commit),
      commitInfo: (commit) => real.commitInfo(commit),
      readTree: (commit, previous) => {
        treesRead.push(commit);
        return real.readTree(commit, previous);
      },
      isAncestor: (ancestor, commit) => real.isAncestor(ancestor, commit),
      listTags: () => real.listTags(),
      readNote: (notesRef, commit) => real.readNote(notesRef, commit),
      compactPacks: () => real.compactPacks(),
      close: () => real.close(),
    };
    return { source, treesRead, releaseFetch, close: () => real.close() };
  };

  /** Waits until the gated source read `cached` alone, then lets its fetch end (whatever happened). */
  const expectReadBeforeFetchEnds = async (treesRead: string[], cached: string, releaseFetch: () => void) => {
    try {
      await waitFor(() => treesRead.length > 0, {
        description: 'the cached head read before the fetch ends',
        timeoutMs: 30_000,
      });
      expect(treesRead).toEqual([cached]);
    } finally {
      releaseFetch();
    }
  };

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

  it('reads what the clone holds while the fetch runs, and mirrors the head the fetch found', async () => {
    // The clone in the cache directory holds the head as it is now.
    await (await restartedMirror()).sync(f.target);
    const cached = await f.work.head();
    await f.work.write({ 'services/recommender/config/rules/blocklist.yaml': 'blocked: [spam, scam]\n' });
    const pushed = await f.work.commit('Block scams');
    await f.work.push(f.repoUrl);
    const { source, treesRead, releaseFetch, close } = gatedSource();
    const mirror = new Mirror({
      layout: f.layout,
      source,
      branch: 'main',
      logger: quietLogger,
      validationCache: await openValidationCache(f.cacheDir, quietLogger),
    });
    const syncing = mirror.sync(f.target);
    await expectReadBeforeFetchEnds(treesRead, cached, releaseFetch);
    const outcome = await syncing;
    close();
    expect(outcome).toMatchObject({ kind: 'mirrored', commit: pushed, previous: cached, filesParsed: 1 });
    expect(outcome.kind === 'mirrored' && (await f.actualView())).toEqual(await f.expectedView());
  });

  it('reads the clone while its validation cache is still being opened, and parses nothing once it is', async () => {
    await (await restartedMirror()).sync(f.target);
    const cached = await f.work.head();
    const { source, treesRead, releaseFetch, close } = gatedSource();
    let openCache = () => {};
    const cacheOpened = new Promise<void>((resolve) => {
      openCache = resolve;
    });
    const mirror = new Mirror({
      layout: f.layout,
      source,
      branch: 'main',
      logger: quietLogger,
      validationCache: cacheOpened.then(() => openValidationCache(f.cacheDir, quietLogger)),
    });
    const syncing = mirror.sync(f.target);
    try {
      await expectReadBeforeFetchEnds(treesRead, cached, releaseFetch);
    } finally {
      openCache();
    }
    const outcome = await syncing;
    close();
    expect(outcome).toMatchObject({ kind: 'up-to-date', commit: cached, filesParsed: 0 });
  });

  it('checks the branch before it starts while it reads what the clone holds', async () => {
    await (await restartedMirror()).sync(f.target);
    const cached = await f.work.head();
    const { source, treesRead, releaseFetch, close } = gatedSource();
    const mirror = new Mirror({ layout: f.layout, source, branch: 'main', logger: quietLogger });
    const checking = checkBranch(mirror, source, quietLogger);
    await expectReadBeforeFetchEnds(treesRead, cached, releaseFetch);
    await checking;
    close();
  });

  it('parses everything again, and still mirrors, when the cache file is corrupt', async () => {
    await writeFile(join(f.cacheDir, VALIDATION_CACHE_FILE), 'not json');
    const outcome = await (await restartedMirror()).sync(f.target);
    expect(outcome.kind).toBe('up-to-date');
    expect(outcome.kind !== 'refused' && outcome.filesParsed).toBeGreaterThan(20);
    const again = await (await restartedMirror()).sync(f.target);
    expect(again).toMatchObject({ kind: 'up-to-date', filesParsed: 0 });
  });

  it('counts the validation of the clone read ahead of the fetch once, not out of the read as well', async () => {
    // Many files for the read ahead to parse (the validation cache gone), then one the pass parses.
    const bulk = (i: number) => `services/search-api/config/bulk/${String(i).padStart(3, '0')}.yaml`;
    await f.work.write(Object.fromEntries(Array.from({ length: 400 }, (_, i) => [bulk(i), `n: ${i}\n`])));
    await f.work.commit('Bulk settings');
    await f.work.push(f.repoUrl);
    await (await restartedMirror()).sync(f.target);
    await f.work.write({ [bulk(0)]: 'n: changed\n' });
    await f.work.commit('Change one setting');
    await f.work.push(f.repoUrl);
    await writeFile(join(f.cacheDir, VALIDATION_CACHE_FILE), 'not json');

    const outcome = await (await restartedMirror()).sync(f.target);
    expect(outcome).toMatchObject({ kind: 'mirrored' });
    expect(outcome.kind === 'mirrored' && outcome.filesParsed).toBeGreaterThan(400);
    // Taken out twice, the read ahead's validation (hundreds of files) left the read negative.
    expect(outcome.kind === 'mirrored' && outcome.timings.readMs).toBeGreaterThanOrEqual(0);
    expect(await f.actualView()).toEqual(await f.expectedView());
  });
});
