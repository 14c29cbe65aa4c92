import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, removeTempDir } from '../../local/index.js';
import { createWorkRepo } from '../../test/harness/index.js';
import { turnsDuring } from '../../test/support/event-loop-turns.js';
import { packAllObjects } from '../../test/support/pack-objects.js';
import { isAncestorOf } from './ancestry.js';
import { treeOfCommit } from './commit-info.js';
import type { ObjectStore } from './object-store.js';
import { storeFiles } from './store-files.js';
import { diffTrees } from './tree-diff.js';
import { DEFAULT_TREE_LIMITS } from './tree-limits.js';

/**
 * A packed object is read without a turn of the event loop, once the clone's listings and indexes
 * are in memory: a large diff, and a walk of the history, hand the loop back themselves.
 */
describe('reads of a fetched clone that hand the event loop back', () => {
  let scratch: string;
  let store: ObjectStore;
  const commits: string[] = [];
  const FILES = 300;

  beforeAll(async () => {
    scratch = await createTempDir('cairn-read-in-slices-');
    const repo = await createWorkRepo();
    for (let n = 0; n < 40; n++) {
      const files: Record<string, string> = {};
      // The first commit and the last write every file; the others one each.
      const written = n === 0 || n === 39 ? FILES : 1;
      for (let f = 0; f < written; f++) files[`services/s${f % 10}/config/f${f}.yaml`] = `n: ${n}\n`;
      await repo.write(files);
      commits.push(await repo.commit(`Commit ${n}`));
    }
    // A clone as a fetch leaves it: packs only, read through the files that answer from memory.
    const gitdir = join(scratch, 'clone.git');
    packAllObjects(join(repo.dir, '.git'), gitdir);
    const files = storeFiles(gitdir);
    store = { fs: files.fs, gitdir, cache: {}, display: gitdir, packsChanged: files.packsChanged };
    // The listings and the index are read once, with turns of their own.
    await isAncestorOf(store, commits[0] as string, commits[1] as string);
  });
  afterAll(async () => {
    await removeTempDir(scratch);
  });

  const spent = () => {
    let clock = 0;
    // Every reading of this clock finds the slice spent.
    return { sliceMs: 1, now: () => (clock += 2) };
  };

  it('diffs a commit of many files with a turn between reads once a slice is spent, and keeps the loop while it lasts', async () => {
    const [before, after] = await Promise.all([
      treeOfCommit(store, commits[38] as string),
      treeOfCommit(store, commits[39] as string),
    ]);
    let sliced: Awaited<ReturnType<typeof diffTrees>> | undefined;
    const turns = await turnsDuring(async () => {
      sliced = await diffTrees(store, before, after, DEFAULT_TREE_LIMITS, spent());
    });
    expect(sliced?.written.size).toBe(FILES);
    expect(turns).toBeGreaterThanOrEqual(FILES / 2);
    let whole: Awaited<ReturnType<typeof diffTrees>> | undefined;
    const held = await turnsDuring(async () => {
      whole = await diffTrees(store, before, after, DEFAULT_TREE_LIMITS, { sliceMs: 60_000 });
    });
    expect(held).toBe(0);
    expect(whole?.written).toEqual(sliced?.written);
  });

  it('walks the history with a turn between commits once a slice is spent, and keeps the loop while it lasts', async () => {
    const first = commits[0] as string;
    const last = commits[39] as string;
    let found: boolean | undefined;
    const turns = await turnsDuring(async () => {
      found = await isAncestorOf(store, first, last, spent());
    });
    expect(found).toBe(true);
    expect(turns).toBeGreaterThanOrEqual(30);
    const held = await turnsDuring(async () => {
      expect(await isAncestorOf(store, first, last, { sliceMs: 60_000 })).toBe(true);
      // Not an ancestor: the whole history is walked before the answer.
      expect(await isAncestorOf(store, last, first, { sliceMs: 60_000 })).toBe(false);
    });
    expect(held).toBe(0);
  });
});
