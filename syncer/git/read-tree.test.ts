import { createHash } from 'node:crypto';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FolderTree } from '../../core/index.js';
import { useGitSources } from '../../test/support/git-sources.js';
import { commitHostileEntry, type HostileEntry } from '../../test/support/hostile-commit.js';
import {
  CommitNotFoundError,
  DEFAULT_TREE_LIMITS,
  openGitSource,
  TreeLimitError,
  type TreeSnapshot,
  UnsafeTreeEntryError,
} from './index.js';

const bytes = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

describe('reading the files of a commit', () => {
  const fixture = useGitSources();
  const { repository } = fixture;

  it('returns every regular file with its exact bytes, in path order', async () => {
    const { url, author, source } = await repository('contents');
    const binary = Uint8Array.from([0, 1, 2, 0, 255, 0, 10, 13, 0]);
    await author.write({
      'cairn.yaml': 'environments:\n  - name: prod\n',
      'assets/logo.bin': binary,
      'empty.txt': '',
      'a/b/c/d/deep.yaml': 'deep: true\n',
      'services/café/config/app.yaml': 'name: café\n',
      'scripts/reload.sh': '#!/bin/sh\nkill -HUP 1\n',
    });
    await chmod(join(author.dir, 'scripts/reload.sh'), 0o755);
    await symlink('cairn.yaml', join(author.dir, 'link.yaml'));
    await author.commit('Files of every kind');
    // A submodule: a gitlink entry in the tree, pointing at a commit of another repository.
    await author.git('update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},vendor/lib`);
    await author.git('commit', '--quiet', '--message', 'Add a submodule');
    const head = await author.head();
    await author.push(url);
    expect(await author.git('ls-tree', '-r', '--format=%(objectmode) %(path)', 'HEAD')).toContain(
      '120000 link.yaml',
    );

    expect(await source.fetchHead()).toBe(head);
    const { snapshot, changed } = await source.readTree(head);

    const expected = new Map<string, Uint8Array>([
      ['a/b/c/d/deep.yaml', bytes('deep: true\n')],
      ['assets/logo.bin', binary],
      ['cairn.yaml', bytes('environments:\n  - name: prod\n')],
      ['empty.txt', new Uint8Array()],
      ['scripts/reload.sh', bytes('#!/bin/sh\nkill -HUP 1\n')],
      ['services/café/config/app.yaml', bytes('name: café\n')],
    ]);
    expect(snapshot.commit).toBe(head);
    expect([...snapshot.tree.keys()]).toEqual([...expected.keys()]);
    for (const [path, content] of expected) expect(snapshot.tree.get(path), path).toEqual(content);
    // A first read changed every path: the set of them answers as a Set of its own would.
    expect([...changed]).toEqual([...expected.keys()]);
    expect([...changed.values()]).toEqual([...expected.keys()]);
    expect([...changed.entries()]).toEqual([...expected.keys()].map((path) => [path, path]));
    expect(changed.size).toBe(expected.size);
    expect(changed.has('services/café/config/app.yaml')).toBe(true);
    expect(changed.has('link.yaml')).toBe(false);
    expect(changed.has('services/café')).toBe(false);
    const seen: string[] = [];
    changed.forEach((path, same) => {
      seen.push(`${path}=${same}`);
    });
    expect(seen).toEqual([...expected.keys()].map((path) => `${path}=${path}`));
  });

  it('counts the files of a whole-tree read as it reads them, out of the total, once it is listed', async () => {
    const { author } = await repository('progress');
    await author.write(
      Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`services/s/config/f${i}.yaml`, `n: ${i}\n`])),
    );
    await author.commit('Forty files');
    const seen: [number, number][] = [];
    const source = openGitSource({
      url: author.dir,
      branch: 'main',
      cacheDir: join(fixture.scratch, 'progress-cache'),
      onReadProgress: (read, total) => seen.push([read, total]),
    });
    try {
      const first = await source.readTree(await source.fetchHead());
      expect(first.snapshot.tree.size).toBe(40);
      // Files read while the rest was listed are counted together, when the total is known.
      const reads = seen.map(([read]) => read);
      expect(reads.every((read, i) => i === 0 || read > (reads[i - 1] as number))).toBe(true);
      expect(reads.at(-1)).toBe(40);
      expect(new Set(seen.map(([, total]) => total))).toEqual(new Set([40]));

      // A later commit is diffed, not read whole: there is nothing to count.
      seen.length = 0;
      await author.write({ 'services/s/config/f0.yaml': 'n: changed\n' });
      await author.commit('One file');
      await source.readTree(await source.fetchHead(), first.snapshot);
      expect(seen).toEqual([]);
    } finally {
      source.close();
    }
  });

  it('with the previous snapshot, reports exactly what changed and keeps the other files by identity', async () => {
    const { url, author, source } = await repository('diff');
    await author.write({
      'cairn.yaml': 'environments: [prod]\n',
      'foo.yaml': 'foo: 1\n',
      'foo/bar.yaml': 'bar: 1\n',
      'foo_bar.yaml': 'foo_bar: 1\n',
      'foo_bar_v2.yaml': 'foo_bar_v2: 1\n',
      'keep/deep/unchanged.yaml': 'unchanged: true\n',
      'rename-me.yaml': 'renamed: soon\n',
      'becomes-dir': 'a file for now\n',
      'dir-becomes-file/x.yaml': 'x: 1\n',
      // The bytes a symbolic link to cairn.yaml has in git: the same blob, another mode.
      'becomes-link.yaml': 'cairn.yaml',
      'gets-executable.sh': 'echo hi\n',
      'deleted/whole/tree/a.yaml': 'a: 1\n',
      'deleted/whole/tree/b.yaml': 'b: 1\n',
    });
    const first = await author.commit('First');
    await author.push(url);
    await source.fetchHead();
    const before = (await source.readTree(first)).snapshot;

    await author.git('rm', '--quiet', '-r', 'dir-becomes-file', 'rename-me.yaml', 'becomes-link.yaml');
    await author.write({
      'foo/bar.yaml': 'bar: 2\n',
      'foo_bar.yaml': null,
      'renamed/me.yaml': 'renamed: soon\n',
      'foo-bar.yaml': 'foo-bar: new\n',
      'becomes-dir': null,
      'becomes-dir/inner.yaml': 'inner: 1\n',
      'dir-becomes-file': 'now a file\n',
      'deleted/whole/tree/a.yaml': null,
      'deleted/whole/tree/b.yaml': null,
    });
    await symlink('cairn.yaml', join(author.dir, 'becomes-link.yaml'));
    await chmod(join(author.dir, 'gets-executable.sh'), 0o755);
    const second = await author.commit('Second');
    await author.push(url);
    await source.fetchHead();

    const update = await source.readTree(second, before);

    expect(update.snapshot.commit).toBe(second);
    expect([...update.changed]).toEqual([
      'becomes-dir',
      'becomes-dir/inner.yaml',
      'becomes-link.yaml',
      'deleted/whole/tree/a.yaml',
      'deleted/whole/tree/b.yaml',
      'dir-becomes-file',
      'dir-becomes-file/x.yaml',
      'foo-bar.yaml',
      'foo/bar.yaml',
      'foo_bar.yaml',
      'rename-me.yaml',
      'renamed/me.yaml',
    ]);
    const full = (await source.readTree(second)).snapshot.tree;
    expect([...update.snapshot.tree.keys()]).toEqual([...full.keys()]);
    for (const [path, content] of full) expect(update.snapshot.tree.get(path), path).toEqual(content);
    // A change of the executable bit alone changes no bytes.
    for (const path of [
      'cairn.yaml',
      'foo.yaml',
      'foo_bar_v2.yaml',
      'keep/deep/unchanged.yaml',
      'gets-executable.sh',
    ]) {
      expect(update.snapshot.tree.get(path), path).toBe(before.tree.get(path));
    }
    expect(update.snapshot.tree.get('foo/bar.yaml')).not.toBe(before.tree.get('foo/bar.yaml'));

    // Identity carries over a chain of snapshots.
    await author.write({ 'foo.yaml': 'foo: 3\n' });
    const third = await author.commit('Third');
    await author.push(url);
    await source.fetchHead();
    const next = await source.readTree(third, update.snapshot);
    expect([...next.changed]).toEqual(['foo.yaml']);
    expect(next.snapshot.tree.get('keep/deep/unchanged.yaml')).toBe(
      before.tree.get('keep/deep/unchanged.yaml'),
    );
    expect(next.snapshot.tree.get('foo/bar.yaml')).toBe(update.snapshot.tree.get('foo/bar.yaml'));
  });

  it('shares every folder nothing changed under with the previous snapshot', async () => {
    const { url, author, source } = await repository('shared-folders');
    await author.write({
      'cairn.yaml': 'a: 1\n',
      'services/api/config/app.yaml': 'x: 1\n',
      'services/api/config/deep/more.yaml': 'y: 1\n',
      'services/web/config/app.yaml': 'z: 1\n',
    });
    const first = await author.commit('First');
    await author.write({ 'services/api/config/app.yaml': 'x: 2\n' });
    const second = await author.commit('Second');
    await author.push(url);
    await source.fetchHead();
    const before = (await source.readTree(first)).snapshot;

    const { snapshot } = await source.readTree(second, before);

    const folder = (tree: FolderTree, path: string) => tree.folder(path);
    expect(folder(snapshot.tree, 'services/web')).toBe(folder(before.tree, 'services/web'));
    expect(folder(snapshot.tree, 'services/api/config/deep')).toBe(
      folder(before.tree, 'services/api/config/deep'),
    );
    expect(folder(snapshot.tree, 'services/api')).not.toBe(folder(before.tree, 'services/api'));
    expect(new TextDecoder().decode(snapshot.tree.get('services/api/config/app.yaml'))).toBe('x: 2\n');
    expect(before.tree.get('services/api/config/app.yaml')).toEqual(bytes('x: 1\n'));
  });

  it('reports no change, and keeps the tree, when reading the previous commit again', async () => {
    const { url, author, source } = await repository('same-commit');
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    const head = await author.commit('Only');
    await author.push(url);
    await source.fetchHead();
    const { snapshot } = await source.readTree(head);

    const again = await source.readTree(head, snapshot);

    expect(again.changed.size).toBe(0);
    expect(again.snapshot.tree).toBe(snapshot.tree);
  });

  it('compares bytes when the previous commit is no longer in the repository', async () => {
    const { url, author, source } = await repository('previous-gone');
    await author.write({ 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 1\n', 'c/d.yaml': 'd: 1\n' });
    const head = await author.commit('Only');
    await author.push(url);
    await source.fetchHead();
    const gone: TreeSnapshot = {
      commit: 'f'.repeat(40),
      tree: FolderTree.of([
        ['a.yaml', bytes('a: 1\n')],
        ['b.yaml', bytes('b: 0\n')],
        ['old.yaml', bytes('old\n')],
      ]),
    };

    const update = await source.readTree(head, gone);

    expect([...update.changed]).toEqual(['b.yaml', 'c/d.yaml', 'old.yaml']);
    expect(update.snapshot.tree.get('a.yaml')).toBe(gone.tree.get('a.yaml'));
    expect([...update.snapshot.tree.keys()]).toEqual(['a.yaml', 'b.yaml', 'c/d.yaml']);
  });

  it('throws CommitNotFoundError for a commit that was never fetched', async () => {
    const { url, author, source } = await repository('unknown-commit');
    await author.write({ 'a.yaml': 'a: 1\n' });
    await author.commit('Only');
    await author.push(url);
    await source.fetchHead();

    await expect(source.readTree('e'.repeat(40))).rejects.toBeInstanceOf(CommitNotFoundError);
    await expect(source.readTree('e'.repeat(40))).rejects.toMatchObject({ code: 'COMMIT_NOT_FOUND' });
  });
});

describe('reading a tree that holds names no checkout may have', () => {
  const fixture = useGitSources();

  // Built with git plumbing (mktree), as an attacker pushing straight to the branch would: `git add`
  // refuses these names, isomorphic-git refuses to parse a tree holding them.
  const cases: [string, string, string | Buffer, HostileEntry, string][] = [
    [
      'a folder named ..',
      'services/api/config',
      '..',
      { folder: { 'evil.yaml': 'a: 1\n' } },
      'services/api/config/..',
    ],
    ['a file named ..', 'services/api/config', '..', 'a: 1\n', 'services/api/config/..'],
    [
      'a name with a backslash',
      'services/api/config',
      'win\\path.yaml',
      'a: 1\n',
      'services/api/config/win\\path.yaml',
    ],
    ['a folder named .git', '', '.git', { folder: { config: '[core]\n' } }, '.git'],
    // Read as U+FFFD, as every other name that is not UTF-8 is: two such names would read as one.
    [
      'a name that is not UTF-8',
      'services/api/config',
      Buffer.from([0x72, 0x80, 0x2e, 0x79, 0x61, 0x6d, 0x6c]),
      'a: 1\n',
      'services/api/config/r\ufffd.yaml',
    ],
  ];

  for (const [title, folder, name, entry, path] of cases) {
    it(`names the entry of ${title}, whether the whole tree or only a change is read`, async () => {
      const { url, author } = await fixture.repository(`unsafe-${title.replace(/\W+/g, '-')}`);
      await author.write({ 'services/api/config/app.yaml': 'a: 1\n' });
      const good = await author.commit('Good');
      const bad = await commitHostileEntry(author, folder, name, entry, 'Hostile');
      await author.push(url);
      const { source } = fixture.open(url);
      await source.fetchHead();

      const whole = source.readTree(bad);
      await expect(whole).rejects.toBeInstanceOf(UnsafeTreeEntryError);
      await expect(whole).rejects.toMatchObject({ code: 'UNSAFE_TREE_ENTRY', path });
      const previous = (await source.readTree(good)).snapshot;
      await expect(source.readTree(bad, previous)).rejects.toMatchObject({ code: 'UNSAFE_TREE_ENTRY', path });
    });
  }
});

describe('reading a tree over the limits', () => {
  const fixture = useGitSources();

  /**
   * Loose objects for the repository at `dir`, as git writes them: hashed here in order (each tree
   * names its child's id), written to disk together by `flush`.
   */
  const objectWriter = (dir: string) => {
    const pending: [oid: string, data: Buffer][] = [];
    return {
      add(type: string, body: Buffer): string {
        const data = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
        const oid = createHash('sha1').update(data).digest('hex');
        pending.push([oid, data]);
        return oid;
      },
      async flush(): Promise<void> {
        const folders = new Set(pending.map(([oid]) => oid.slice(0, 2)));
        await Promise.all(
          [...folders].map((f) => mkdir(join(dir, '.git', 'objects', f), { recursive: true })),
        );
        for (let i = 0; i < pending.length; i += 256) {
          await Promise.all(
            pending
              .slice(i, i + 256)
              .map(([oid, data]) =>
                writeFile(join(dir, '.git', 'objects', oid.slice(0, 2), oid.slice(2)), deflateSync(data)),
              ),
          );
        }
      },
    };
  };
  const treeEntry = (mode: string, name: string, oid: string) =>
    Buffer.concat([Buffer.from(`${mode} ${name}\0`), Buffer.from(oid, 'hex')]);

  /**
   * A repository with one good commit and, on top, `tree` as the next commit, read in place (a
   * local path): what is measured is the reading, not a clone of 10,000 objects.
   */
  const withCommitOf = async (name: string, tree: (dir: string) => Promise<string>) => {
    const { author } = await fixture.repository(name);
    await author.write({ 'app.yaml': 'a: 1\n' });
    const good = await author.commit('Good');
    const bad = await author.git('commit-tree', await tree(author.dir), '-p', good, '-m', 'Hostile');
    await author.git('update-ref', 'HEAD', bad);
    const { source } = fixture.open(author.dir);
    await source.fetchHead();
    return { source, good, bad };
  };

  it('refuses a tree of more files than the limit before reading them, whole or as a change', async () => {
    const files = DEFAULT_TREE_LIMITS.maxFiles + 1;
    const { source, good, bad } = await withCommitOf('too-many-files', async (dir) => {
      const objects = objectWriter(dir);
      const blob = objects.add('blob', Buffer.from('a: 1\n'));
      const names = Array.from({ length: files }, (_, i) => `f${String(i).padStart(6, '0')}.yaml`);
      const tree = objects.add('tree', Buffer.concat(names.map((file) => treeEntry('100644', file, blob))));
      await objects.flush();
      return tree;
    });
    const started = performance.now();
    const refusal = {
      code: 'TREE_LIMIT_EXCEEDED',
      rule: 'tree/too-many-files',
      path: `f${String(DEFAULT_TREE_LIMITS.maxFiles).padStart(6, '0')}.yaml`,
    };
    const whole = await source.readTree(bad).catch((error: unknown) => error);
    expect(whole).toMatchObject(refusal);
    expect((whole as Error).message).toMatch(/more than 200000 files \(the syncer's --max-files\)/);
    const previous = (await source.readTree(good)).snapshot;
    await expect(source.readTree(bad, previous)).rejects.toMatchObject(refusal);
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 120_000);

  it('refuses folders nested 10,000 deep, whole or as a change, naming where', async () => {
    const { source, good, bad } = await withCommitOf('too-deep', async (dir) => {
      const objects = objectWriter(dir);
      let oid = objects.add(
        'tree',
        treeEntry('100644', 'f.yaml', objects.add('blob', Buffer.from('a: 1\n'))),
      );
      for (let depth = 0; depth < 10_000; depth++) oid = objects.add('tree', treeEntry('40000', 'd', oid));
      await objects.flush();
      return oid;
    });
    const refusal = {
      code: 'TREE_LIMIT_EXCEEDED',
      rule: 'tree/too-deep',
      path: 'd/d/d/d/d/d/d/d/… (64+ levels)',
    };
    const whole = await source.readTree(bad).catch((error: unknown) => error);
    expect(whole).toBeInstanceOf(TreeLimitError);
    expect(whole).toMatchObject(refusal);
    const previous = (await source.readTree(good)).snapshot;
    await expect(source.readTree(bad, previous)).rejects.toMatchObject(refusal);
  }, 120_000);

  it('reads a tree at the limits', async () => {
    const { url, author } = await fixture.repository('at-the-limits');
    await author.write({ 'a/b/c.yaml': 'a: 1\n', 'd.yaml': 'd: 1\n' });
    const head = await author.commit('Two files, three deep');
    await author.push(url);
    const source = openGitSource({
      url,
      branch: 'main',
      cacheDir: join(fixture.scratch, 'limits'),
      limits: { maxFiles: 2, maxPathDepth: 3 },
    });
    await source.fetchHead();
    expect([...(await source.readTree(head)).snapshot.tree.keys()]).toEqual(['a/b/c.yaml', 'd.yaml']);
    const tight = openGitSource({
      url,
      branch: 'main',
      cacheDir: join(fixture.scratch, 'tight'),
      limits: { maxFiles: 1, maxPathDepth: 2 },
    });
    await tight.fetchHead();
    await expect(tight.readTree(head)).rejects.toMatchObject({ rule: 'tree/too-deep' });
    source.close();
    tight.close();
  });
});
