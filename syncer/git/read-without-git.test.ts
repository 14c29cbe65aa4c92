import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isolatedGitEnv } from '../../test/harness/git-command.js';
import { createWorkRepo, type WorkRepo } from '../../test/harness/index.js';
import { commitHostileEntry } from '../../test/support/hostile-commit.js';
import { UnsafeTreeEntryError } from './errors.js';
import type { ObjectStore } from './object-store.js';
import { readAllFiles } from './tree-diff.js';
import { DEFAULT_TREE_LIMITS, TreeLimitError } from './tree-limits.js';

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

  /** Runs git plumbing in `work` with `input` on its stdin, and returns its output, trimmed. */
  const plumbing = (work: WorkRepo, args: string[], input: Buffer | string = '') =>
    execFileSync('git', args, { cwd: work.dir, env: isolatedGitEnv(), input }).toString('utf8').trim();

  /**
   * A tree object written byte for byte (`git mktree` would rewrite an old 100664 mode as 100644),
   * its entries in the order given, which must be git's.
   */
  const rawTree = (work: WorkRepo, entries: readonly [mode: string, name: string, oid: string][]) =>
    plumbing(
      work,
      ['hash-object', '-t', 'tree', '--literally', '-w', '--stdin'],
      Buffer.concat(
        entries.map(([mode, name, oid]) =>
          Buffer.concat([Buffer.from(`${mode} ${name}\0`), Buffer.from(oid, 'hex')]),
        ),
      ),
    );

  it('reads the files git reads, in the order git lists them, without git', async () => {
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

  it('reads an old 100664 file as git does, and leaves out links and submodules', async () => {
    const work = await createWorkRepo();
    await work.write({ 'cairn.yaml': 'limits: {}\n' });
    const base = await work.commit('Base');
    const blob = (content: string) => plumbing(work, ['hash-object', '-w', '--stdin'], content);
    const folder = rawTree(work, [
      ['100644', 'a.yaml', blob('a: 1\n')],
      ['100664', 'old.yaml', blob('old: 1\n')],
      ['120000', 'link.yaml', blob('../../cairn.yaml')],
    ]);
    const root = rawTree(work, [
      ['100644', 'cairn.yaml', blob('limits: {}\n')],
      ['100755', 'run.yaml', blob('run: 1\n')],
      ['40000', 'services', folder],
      ['160000', 'vendored', base],
    ]);
    const commit = plumbing(work, ['commit-tree', root, '-p', base, '-m', 'Old modes']);
    const store = storeOf(work.dir);
    const read = await readAllFiles(store, commit, DEFAULT_TREE_LIMITS);
    expect([...read.keys()]).toEqual(['cairn.yaml', 'run.yaml', 'services/a.yaml', 'services/old.yaml']);
    const walked = await withoutGit(() => readAllFiles(store, commit, DEFAULT_TREE_LIMITS));
    expect([...walked.keys()]).toEqual([...read.keys()]);
    expect(Buffer.from(walked.get('services/old.yaml') ?? []).toString()).toBe('old: 1\n');
  });

  it('refuses a tree over its limits, at the first folder or file past them', async () => {
    const work = await createWorkRepo();
    await work.write({ 'a/b/c/d.yaml': 'd: 1\n', 'a/x.yaml': 'x: 1\n', 'z.yaml': 'z: 1\n' });
    const commit = await work.commit('Deep');
    const store = storeOf(work.dir);
    const read = (limits: typeof DEFAULT_TREE_LIMITS) =>
      withoutGit(() => readAllFiles(store, commit, limits));
    // A folder too deep is refused before it is read, by its own path.
    await expect(read({ maxFiles: 10, maxPathDepth: 2 })).rejects.toMatchObject({
      code: 'TREE_LIMIT_EXCEEDED',
      rule: 'tree/too-deep',
      path: 'a/b/c/… (2+ levels)',
    });
    // A file one level too deep, by its path.
    await expect(read({ maxFiles: 10, maxPathDepth: 3 })).rejects.toMatchObject({
      rule: 'tree/too-deep',
      path: 'a/b/c/d.yaml/… (3+ levels)',
    });
    // The file past the limit, in listing order.
    const tooMany = read({ maxFiles: 2, maxPathDepth: 4 });
    await expect(tooMany).rejects.toBeInstanceOf(TreeLimitError);
    await expect(tooMany).rejects.toMatchObject({ rule: 'tree/too-many-files', path: 'z.yaml' });
    expect([...(await read({ maxFiles: 3, maxPathDepth: 4 })).keys()]).toEqual([
      'a/b/c/d.yaml',
      'a/x.yaml',
      'z.yaml',
    ]);
  });
});
