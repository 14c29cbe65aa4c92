import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, createWorkRepo, type GitServer, startGitServer } from '../../test/harness/index.js';
import {
  BranchNotFoundError,
  type GitSource,
  GitUnreachableError,
  openGitSource,
  UnsupportedGitUrlError,
} from './index.js';

describe('fetching the tracked branch over HTTP', () => {
  let server: GitServer;
  const tempDirs: string[] = [];
  const sources: GitSource[] = [];

  beforeAll(async () => {
    server = await startGitServer();
  });

  afterAll(async () => {
    for (const source of sources) source.close();
    await server?.close();
    await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function cacheDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-git-cache-'));
    tempDirs.push(dir);
    return dir;
  }

  async function open(url: string, options: { branch?: string; cacheDir?: string; timeoutMs?: number } = {}) {
    const source = openGitSource({
      url,
      branch: options.branch ?? 'main',
      cacheDir: options.cacheDir ?? (await cacheDir()),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    sources.push(source);
    return source;
  }

  /** A repository on the server with one pushed commit, and the working copy that pushes to it. */
  async function pushedRepo(name: string, files: Record<string, string> = { 'cairn.yaml': 'limits: {}\n' }) {
    const url = await createBareRepo(server, name);
    const author = await createWorkRepo();
    await author.write(files);
    const head = await author.commit('Initial configuration');
    await author.push(url);
    return { url, author, head };
  }

  it('clones on the first fetch and returns the pushed head', async () => {
    const { url, head } = await pushedRepo('first-clone');
    const source = await open(url);

    expect(await source.fetchHead()).toBe(head);
    expect((await source.commitInfo(head)).commit).toBe(head);
  });

  it('fetches what was pushed since, and returns the new head', async () => {
    const { url, author, head } = await pushedRepo('incremental');
    const source = await open(url);
    expect(await source.fetchHead()).toBe(head);

    await author.write({ 'services/api/config/app.yaml': 'port: 8080\n' });
    const second = await author.commit('Add the api service');
    await author.push(url);

    expect(await source.fetchHead()).toBe(second);
    const { snapshot } = await source.readTree(second);
    expect(Buffer.from(snapshot.tree.get('services/api/config/app.yaml') ?? []).toString()).toBe(
      'port: 8080\n',
    );
    // With nothing new on the server, a fetch still answers the head.
    expect(await source.fetchHead()).toBe(second);
  });

  it('runs one fetch for calls made while a fetch is running', async () => {
    const { url, author } = await pushedRepo('coalesce');
    const source = await open(url);
    await source.fetchHead();

    await author.write({ 'a.yaml': 'a: 1\n' });
    const second = await author.commit('Second');
    await author.push(url);
    let before = server.requests();
    expect(await source.fetchHead()).toBe(second);
    const requestsOfOneFetch = server.requests() - before;
    expect(requestsOfOneFetch).toBeGreaterThan(0);

    await author.write({ 'a.yaml': 'a: 2\n' });
    const third = await author.commit('Third');
    await author.push(url);
    before = server.requests();
    const heads = await Promise.all([source.fetchHead(), source.fetchHead(), source.fetchHead()]);
    expect(heads).toEqual([third, third, third]);
    expect(server.requests() - before).toBe(requestsOfOneFetch);

    // Once settled, the next call fetches again rather than answering an old result.
    await author.write({ 'a.yaml': 'a: 3\n' });
    const fourth = await author.commit('Fourth');
    await author.push(url);
    before = server.requests();
    expect(await source.fetchHead()).toBe(fourth);
    expect(server.requests() - before).toBe(requestsOfOneFetch);
  });

  it('lists every ref in one request and fetches only what moved: the branch in one more', async () => {
    const { url, author } = await pushedRepo('one-listing');
    const source = await open(url);
    await source.fetchHead();

    await author.write({ 'a.yaml': 'a: 1\n' });
    const second = await author.commit('Second');
    await author.push(url);
    let before = server.requests();
    expect(await source.fetchHead()).toBe(second);
    expect(server.requests() - before).toBe(2);

    // Nothing moved: the listing alone.
    before = server.requests();
    expect(await source.fetchHead()).toBe(second);
    expect(server.requests() - before).toBe(1);

    // Tags of commits the clone has cost nothing more; an annotated tag names its commit.
    await author.git('tag', 'v1.0.0');
    await author.git('tag', '-a', '-m', 'Release 1.0.1', 'v1.0.1');
    await author.push(url, 'refs/tags/*:refs/tags/*');
    before = server.requests();
    expect(await source.fetchHead()).toBe(second);
    expect(server.requests() - before).toBe(1);
    expect(await source.listTags()).toEqual([
      { name: 'v1.0.0', commit: second },
      { name: 'v1.0.1', commit: second },
    ]);
  });

  it('fetches the commit of a tag off the branch by its tag, in the same listing', async () => {
    const { url, author, head } = await pushedRepo('tag-off-branch');
    const source = await open(url);
    await source.fetchHead();

    await author.git('checkout', '--quiet', '-b', 'release');
    await author.write({ 'hotfix.yaml': 'fixed: true\n' });
    const hotfix = await author.commit('Hotfix on the release branch');
    await author.git('tag', 'v0.9.1');
    await author.push(url, 'refs/tags/v0.9.1:refs/tags/v0.9.1');
    const before = server.requests();
    expect(await source.fetchHead()).toBe(head);
    expect(server.requests() - before).toBe(2);
    expect(await source.listTags()).toEqual([{ name: 'v0.9.1', commit: hotfix }]);
    expect((await source.commitInfo(hotfix)).message).toContain('Hotfix');

    // A tag deleted on the server is gone after the next fetch.
    await author.git('push', '--quiet', url, ':refs/tags/v0.9.1');
    await source.fetchHead();
    expect(await source.listTags()).toEqual([]);
  });

  it('reads notes as of the last fetch, fetching them only when they moved', async () => {
    const { url, author, head } = await pushedRepo('notes');
    const source = await open(url);
    const notesRef = 'refs/notes/cairn-approvals';
    await source.fetchHead();
    let before = server.requests();
    expect(await source.readNote(notesRef, head)).toBeUndefined();
    expect(server.requests() - before).toBe(0);

    // A note written after the commit (the bot records a merge later) is seen after the next fetch.
    await author.git('notes', '--ref', 'cairn-approvals', 'add', '-m', '{"pr":1}', head);
    await author.push(url, `${notesRef}:${notesRef}`);
    expect(await source.readNote(notesRef, head)).toBeUndefined();
    await source.fetchHead();
    before = server.requests();
    expect(await source.readNote(notesRef, head)).toBe('{"pr":1}\n');
    expect(server.requests() - before).toBe(1);
    before = server.requests();
    expect(await source.readNote(notesRef, head)).toBe('{"pr":1}\n');
    await source.fetchHead();
    expect(await source.readNote(notesRef, head)).toBe('{"pr":1}\n');
    expect(server.requests() - before).toBe(1);

    await author.git('notes', '--ref', 'cairn-approvals', 'add', '-f', '-m', '{"pr":2}', head);
    await author.push(url, `${notesRef}:${notesRef}`);
    await source.fetchHead();
    expect(await source.readNote(notesRef, head)).toBe('{"pr":2}\n');
  });

  it('reads notes before any fetch of the branch, listing the refs for that read', async () => {
    const { url, author, head } = await pushedRepo('notes-first');
    const notesRef = 'refs/notes/cairn-approvals';
    await author.git('notes', '--ref', 'cairn-approvals', 'add', '-m', '{"pr":3}', head);
    await author.push(url, `${notesRef}:${notesRef}`);
    const source = await open(url);

    expect(await source.readNote(notesRef, head)).toBe('{"pr":3}\n');
    expect(await source.readNote('refs/notes/no-such-notes', head)).toBeUndefined();
  });

  it('says which branch is missing, from which URL, and to check --branch', async () => {
    const { url } = await pushedRepo('missing-branch');
    const source = await open(url, { branch: 'release' });

    const failure = await source.fetchHead().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(BranchNotFoundError);
    expect(failure).toMatchObject({ code: 'BRANCH_NOT_FOUND', branch: 'release', url });
    expect((failure as Error).message).toContain('"release"');
    expect((failure as Error).message).toContain(url);
    expect((failure as Error).message).toContain('--branch');
  });

  it('treats a repository without any commit as missing the branch', async () => {
    const url = await createBareRepo(server, 'empty');
    const source = await open(url);

    await expect(source.fetchHead()).rejects.toBeInstanceOf(BranchNotFoundError);
  });

  it('reports an unavailable server as unreachable, then recovers when it is back', async () => {
    const { url, head } = await pushedRepo('unavailable');
    const source = await open(url);
    server.setAvailable(false);
    let failure: unknown;
    try {
      failure = await source.fetchHead().catch((error: unknown) => error);
    } finally {
      server.setAvailable(true);
    }

    expect(failure).toBeInstanceOf(GitUnreachableError);
    expect(failure).toMatchObject({ code: 'GIT_UNREACHABLE', url, cause: { code: 'HttpError' } });
    expect((failure as Error).message).toContain(url);
    expect((failure as Error).message).toContain('HTTP 503');
    expect((failure as Error).message).toContain('retries');

    expect(await source.fetchHead()).toBe(head);
  });

  it('reports a repository the server does not have as unreachable', async () => {
    const source = await open(server.url('no-such-repo'));

    await expect(source.fetchHead()).rejects.toMatchObject({
      code: 'GIT_UNREACHABLE',
      reason: expect.stringContaining('HTTP 404'),
    });
  });

  it('reports a refused connection as unreachable, with the cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const source = await open(`http://127.0.0.1:${address.port}/config.git`);

    await expect(source.fetchHead()).rejects.toMatchObject({
      code: 'GIT_UNREACHABLE',
      cause: { code: 'ECONNREFUSED' },
    });
  });

  it('gives up on a server that never answers after timeoutMs, with a clear error', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
    try {
      const url = `http://127.0.0.1:${address.port}/config.git`;
      const source = await open(url, { timeoutMs: 300 });

      const failure = await source.fetchHead().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(GitUnreachableError);
      expect((failure as Error).message).toContain('no answer within 300 ms');
      expect((failure as Error).message).toContain(url);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('never shows the credentials of a URL in an error, nor writes them to the cache', async () => {
    const url = server.url('no-such-repo').replace('http://', 'http://deploy:s3cret-token@');
    const dir = await cacheDir();
    const source = await open(url, { cacheDir: dir });

    const failure = await source.fetchHead().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GitUnreachableError);
    expect((failure as Error).message).toContain(server.url('no-such-repo'));
    expect((failure as Error).message).not.toContain('s3cret-token');
    expect(await readFile(join(dir, 'config'), 'utf8')).not.toContain('s3cret-token');
  });

  it('refuses ssh and git URLs when opened', () => {
    expect(() =>
      openGitSource({ url: 'git@example.com:org/config.git', branch: 'main', cacheDir: '.' }),
    ).toThrow(UnsupportedGitUrlError);
    expect(() =>
      openGitSource({ url: 'ssh://example.com/config.git', branch: 'main', cacheDir: '.' }),
    ).toThrow(UnsupportedGitUrlError);
  });

  it('names the head the last fetch brought, without asking the server, when reopened', async () => {
    const { url, author, head } = await pushedRepo('cached-head');
    const dir = await cacheDir();
    const first = await open(url, { cacheDir: dir });
    expect(await first.cachedHead()).toBeUndefined();
    await first.fetchHead();
    first.close();
    await author.write({ 'cairn.yaml': 'limits: { maxFileBytes: 1000 }\n' });
    const pushed = await author.commit('Change the settings');
    await author.push(url);

    const requestsBefore = server.requests();
    const reopened = await open(url, { cacheDir: dir });
    expect(await reopened.cachedHead()).toBe(head);
    expect(server.requests()).toBe(requestsBefore);
    expect(await reopened.fetchHead()).toBe(pushed);
    expect(await reopened.cachedHead()).toBe(pushed);
  });

  it("leaves the clone's config as it is when reopened for the same URL, and updates it for another", async () => {
    const { url } = await pushedRepo('config-kept');
    const dir = await cacheDir();
    const first = await open(url, { cacheDir: dir });
    await first.fetchHead();
    first.close();
    // Dated in the past: a rewrite of the file, even with the same text, dates it now.
    const past = new Date('2001-01-01T00:00:00Z');
    await utimes(join(dir, 'config'), past, past);
    const text = await readFile(join(dir, 'config'), 'utf8');

    await (await open(url, { cacheDir: dir })).fetchHead();
    expect((await stat(join(dir, 'config'))).mtime).toEqual(past);
    expect(await readFile(join(dir, 'config'), 'utf8')).toBe(text);

    const moved = await createBareRepo(server, 'config-kept-moved');
    const { author } = await pushedRepo('config-kept-source');
    await author.push(moved);
    await (await open(moved, { cacheDir: dir })).fetchHead();
    expect(await readFile(join(dir, 'config'), 'utf8')).toContain(`url = ${moved}`);
  });

  it('reuses the clone in cacheDir when reopened, fetching only what is new', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++)
      files[`services/svc-${i}/config/app.yaml`] = randomBytes(2048).toString('hex');
    const { url, author, head } = await pushedRepo('reopen', files);
    const dir = await cacheDir();
    const first = await open(url, { cacheDir: dir });
    expect(await first.fetchHead()).toBe(head);
    first.close();
    const packsAfterClone = await packSizes(dir);
    expect(packsAfterClone.size).toBe(1);
    const [clonePack, clonePackSize] = [...packsAfterClone][0] ?? [];

    await author.write({ 'services/svc-0/config/app.yaml': 'port: 1\n' });
    const second = await author.commit('Change one file');
    await author.push(url);
    const reopened = await open(url, { cacheDir: dir });

    // Before any fetch, what the first clone brought is readable.
    expect((await reopened.readTree(head)).snapshot.tree.size).toBe(200);
    expect(await reopened.fetchHead()).toBe(second);
    const packs = await packSizes(dir);
    expect(packs.get(clonePack ?? '')).toBe(clonePackSize);
    const newPacks = [...packs].filter(([name]) => name !== clonePack);
    expect(newPacks).toHaveLength(1);
    expect(newPacks[0]?.[1]).toBeLessThan((clonePackSize ?? 0) / 50);
    expect((await reopened.readTree(second)).snapshot.tree.get('services/svc-0/config/app.yaml')).toEqual(
      new Uint8Array(Buffer.from('port: 1\n')),
    );
  });
});

/** The packfiles of a bare repository and their sizes. */
async function packSizes(gitdir: string): Promise<Map<string, number>> {
  const packDir = join(gitdir, 'objects', 'pack');
  const names = (await readdir(packDir)).filter((name) => name.endsWith('.pack'));
  const sizes = await Promise.all(names.map(async (name) => (await stat(join(packDir, name))).size));
  return new Map(names.map((name, i) => [name, sizes[i] ?? -1]));
}
