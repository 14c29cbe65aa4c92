import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isolatedGitEnv } from '../../test/harness/git-command.js';
import { createBareRepo, createWorkRepo } from '../../test/harness/index.js';
import { useGitSources } from '../../test/support/git-sources.js';
import { BranchNotFoundError, RepositoryNotFoundError } from './index.js';

describe('a repository on this machine as the source', () => {
  const fixture = useGitSources();
  const { open } = fixture;

  it('reads a working copy in place, seeing each new commit without any copy', async () => {
    const author = await createWorkRepo();
    await author.write({ 'cairn.yaml': 'a: 1\n', 'services/api/service.yaml': 'port: 1\n' });
    const first = await author.commit('First');
    const { source, cacheDir } = open(author.dir);

    expect(await source.fetchHead()).toBe(first);
    const before = (await source.readTree(first)).snapshot;
    expect([...before.tree.keys()]).toEqual(['cairn.yaml', 'services/api/service.yaml']);

    await author.write({ 'cairn.yaml': 'a: 2\n' });
    const second = await author.commit('Second');
    expect(await source.fetchHead()).toBe(second);
    const update = await source.readTree(second, before);
    expect([...update.changed]).toEqual(['cairn.yaml']);
    expect(update.snapshot.tree.get('services/api/service.yaml')).toBe(
      before.tree.get('services/api/service.yaml'),
    );
    expect(await source.isAncestor(first, second)).toBe(true);
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('never reads the folders a commit did not touch, not even beside the changed file', async () => {
    const author = await createWorkRepo();
    await author.git('config', 'gc.auto', '0');
    await author.write({
      'services/api/config/app.yaml': 'port: 1\n',
      'services/web/config/app.yaml': 'port: 2\n',
      'services/web/config/@prod/app.yaml': 'port: 3\n',
    });
    const first = await author.commit('First');
    await author.write({ 'services/api/config/app.yaml': 'port: 10\n' });
    const second = await author.commit('Second');
    const { source } = open(author.dir);
    const before = (await source.readTree(first)).snapshot;

    // Take the untouched folder's tree object away: reading it now would fail.
    const untouched = await author.git('rev-parse', `${second}:services/web`);
    await rm(join(author.dir, '.git', 'objects', untouched.slice(0, 2), untouched.slice(2)));
    await expect(source.readTree(second)).rejects.toThrow();

    const update = await source.readTree(second, before);
    expect([...update.changed]).toEqual(['services/api/config/app.yaml']);
    expect(update.snapshot.tree.get('services/web/config/@prod/app.yaml')).toBe(
      before.tree.get('services/web/config/@prod/app.yaml'),
    );
  });

  it('reads a bare repository, also named by a file:// URL, with packed refs and objects', async () => {
    const url = await createBareRepo(fixture.server, 'bare');
    const author = await createWorkRepo();
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    const head = await author.commit('First');
    await author.push(url);
    const bareDir = join(fixture.server.root, 'bare.git');
    await author.git('--git-dir', bareDir, 'gc', '--quiet');
    expect(await readdir(join(bareDir, 'refs', 'heads'))).toEqual([]);

    for (const location of [bareDir, pathToFileURL(bareDir).href]) {
      const { source } = open(location);
      expect(await source.fetchHead()).toBe(head);
      expect((await source.readTree(head)).snapshot.tree.get('cairn.yaml')).toEqual(
        new Uint8Array(Buffer.from('a: 1\n')),
      );
    }
  });

  it('reads the tracked branch, not whatever is checked out', async () => {
    const author = await createWorkRepo();
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    const onMain = await author.commit('On main');
    await author.git('checkout', '--quiet', '-b', 'experiment');
    await author.write({ 'cairn.yaml': 'a: 2\n' });
    await author.commit('On a side branch');

    expect(await open(author.dir).source.fetchHead()).toBe(onMain);
  });

  it('says when the branch does not exist there', async () => {
    const author = await createWorkRepo();
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    await author.commit('First');

    const failure = await open(author.dir, 'release')
      .source.fetchHead()
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BranchNotFoundError);
    expect((failure as Error).message).toContain(author.dir);
  });

  it('reports a directory that holds no repository as unreachable', async () => {
    const { source } = open(join(fixture.scratch, 'nothing-here'));

    await expect(source.fetchHead()).rejects.toBeInstanceOf(RepositoryNotFoundError);
  });

  it('reports exactly the changed paths between any two trees', { timeout: 120_000 }, async () => {
    const author = await createWorkRepo();
    const { source } = open(author.dir);
    // Names that sort differently as git tree entries than as plain strings ('a' < 'a-b' < 'a.b'
    // < 'a/' < 'a0') and files that become folders and back.
    const name = fc.constantFrom('a', 'a-b', 'a.b', 'a0', 'b', 'a_b', 'a_b_v2');
    const path = fc.array(name, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));
    const content = fc.constantFrom('x\n', 'y\n', '', '\u0000bin');
    const files = fc.dictionary(path, content, { maxKeys: 8 }).map(withoutFileFolderClashes);

    await fc.assert(
      fc.asyncProperty(files, files, async (first, second) => {
        await replaceWorkTree(author.dir, first, author.write.bind(author));
        const firstCommit = await author.commit('first', { allowEmpty: true });
        await replaceWorkTree(author.dir, second, author.write.bind(author));
        const secondCommit = await author.commit('second', { allowEmpty: true });
        await source.fetchHead();
        const before = (await source.readTree(firstCommit)).snapshot;

        const update = await source.readTree(secondCommit, before);

        const expectedChanged = [...new Set([...Object.keys(first), ...Object.keys(second)])]
          .filter((p) => first[p] !== second[p])
          .sort();
        expect([...update.changed]).toEqual(expectedChanged);
        expect(
          Object.fromEntries([...update.snapshot.tree].map(([p, b]) => [p, Buffer.from(b).toString()])),
        ).toEqual(second);
        for (const [p, b] of update.snapshot.tree) {
          if (first[p] === second[p]) expect(b).toBe(before.tree.get(p));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('reads git notes on commits in place, and says when there is none', async () => {
    const author = await createWorkRepo();
    await author.write({ 'cairn.yaml': 'a: 1\n' });
    const annotated = await author.commit('Annotated');
    await author.git('notes', '--ref', 'cairn-approvals', 'add', '-m', '{"pr":1}', annotated);
    const { source } = open(author.dir);
    expect(await source.readNote('refs/notes/cairn-approvals', annotated)).toBe('{"pr":1}\n');
    const plain = await author.commit('Plain', { allowEmpty: true });
    expect(await source.readNote('refs/notes/cairn-approvals', plain)).toBeUndefined();
    expect(await source.readNote('refs/notes/no-such-notes', annotated)).toBeUndefined();
  });

  it('reads a note kept under a folder of its commit id’s first two digits, as git lays out many notes', async () => {
    const author = await createWorkRepo();
    await author.write({ 'note.json': '{"pr":2}\n' });
    const annotated = await author.commit('Annotated');
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', author.dir, ...args], {
        env: isolatedGitEnv({ GIT_INDEX_FILE: join(author.dir, '.git', 'notes-index') }),
        encoding: 'utf8',
      }).trim();
    const blob = git('hash-object', '-w', 'note.json');
    git(
      'update-index',
      '--add',
      '--cacheinfo',
      `100644,${blob},${annotated.slice(0, 2)}/${annotated.slice(2)}`,
    );
    git('update-ref', 'refs/notes/cairn-approvals', git('commit-tree', git('write-tree'), '-m', 'Notes'));
    // git itself reads the note there.
    expect(git('notes', '--ref', 'cairn-approvals', 'show', annotated)).toBe('{"pr":2}');
    const { source } = open(author.dir);
    expect(await source.readNote('refs/notes/cairn-approvals', annotated)).toBe('{"pr":2}\n');
    const plain = await author.commit('Plain', { allowEmpty: true });
    expect(await source.readNote('refs/notes/cairn-approvals', plain)).toBeUndefined();
  });
});

/** Drops the paths that cannot exist together with another: a file where another needs a folder. */
function withoutFileFolderClashes(files: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const path of Object.keys(files).sort()) {
    const clashes = Object.keys(kept).some(
      (other) => path.startsWith(`${other}/`) || other.startsWith(`${path}/`),
    );
    if (!clashes) kept[path] = files[path] ?? '';
  }
  return kept;
}

/** Makes the work tree hold exactly `files` (outside .git). */
async function replaceWorkTree(
  dir: string,
  files: Record<string, string>,
  write: (files: Record<string, string>) => Promise<void>,
): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (entry !== '.git') await rm(join(dir, entry), { recursive: true, force: true });
  }
  await write(files);
}
