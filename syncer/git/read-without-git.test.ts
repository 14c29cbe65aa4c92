import fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkRepo } from '../../test/harness/index.js';
import { commitHostileEntry } from '../../test/support/hostile-commit.js';
import { UnsafeTreeEntryError } from './errors.js';
import type { ObjectStore } from './object-store.js';
import { readAllFiles } from './tree-diff.js';
import { DEFAULT_TREE_LIMITS } from './tree-limits.js';

describe('reading a whole tree on a machine without a git command', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
  });
  /** Runs `read` where `git` cannot be started, as on a machine without it (this file's process only). */
  const withoutGit = async <T>(read: () => Promise<T>): Promise<T> => {
    process.env.PATH = '/nonexistent';
    try {
      return await read();
    } finally {
      process.env.PATH = path;
    }
  };
  const storeOf = (dir: string): ObjectStore => ({ fs, gitdir: join(dir, '.git'), cache: {}, display: dir });

  it('reads through isomorphic-git the files git reads', async () => {
    const work = await createWorkRepo();
    await work.write({ 'cairn.yaml': 'limits: {}\n', 'services/api/config/rules/a.yaml': 'a: 1\n' });
    const commit = await work.commit('Files in folders');
    const store = storeOf(work.dir);
    const read = await readAllFiles(store, commit, DEFAULT_TREE_LIMITS);
    expect([...read.keys()]).toEqual(['cairn.yaml', 'services/api/config/rules/a.yaml']);
    expect(await withoutGit(() => readAllFiles(store, commit, DEFAULT_TREE_LIMITS))).toEqual(read);
  });

  it('refuses a name that is not UTF-8, as a read through git does', async () => {
    const work = await createWorkRepo();
    await work.write({ 'services/api/config/app.yaml': 'a: 1\n' });
    await work.commit('Good');
    const bad = await commitHostileEntry(
      work,
      'services/api/config',
      Buffer.from([0x80]),
      'a: 1\n',
      'Hostile',
    );
    const store = storeOf(work.dir);
    const expected = { code: 'UNSAFE_TREE_ENTRY', path: 'services/api/config/\ufffd' };
    await expect(readAllFiles(store, bad, DEFAULT_TREE_LIMITS)).rejects.toMatchObject(expected);
    const refused = withoutGit(() => readAllFiles(store, bad, DEFAULT_TREE_LIMITS));
    await expect(refused).rejects.toBeInstanceOf(UnsafeTreeEntryError);
    await expect(refused).rejects.toMatchObject(expected);
  });
});
