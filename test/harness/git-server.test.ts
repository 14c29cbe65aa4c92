import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalServerError, waitFor } from '../../local/index.js';
import { createBareRepo, createWorkRepo, type WorkRepo } from './git-repo.js';
import { type GitServer, startGitServer } from './git-server.js';
import { startGitServerProcess } from './git-server-process.js';

describe('the git smart-HTTP server', () => {
  let server: GitServer;
  let url: string;
  let author: WorkRepo;
  let firstCommit: string;

  beforeAll(async () => {
    server = await startGitServer();
    url = await createBareRepo(server, 'configs/cairn-config');
    author = await createWorkRepo();
    await author.write({
      'cairn.yaml': 'environments: [prod]\n',
      'services/api/config/app.yaml': 'port: 8080\n',
    });
    firstCommit = await author.commit('Add the api service', {
      author: { name: 'Ada Lovelace', email: 'ada@example.com' },
      date: '2024-01-02T03:04:05Z',
    });
    await author.push(url);
  });

  afterAll(async () => {
    await server?.close();
  });

  it('serves each bare repository under its name', () => {
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).toBe(`${server.baseUrl}/configs/cairn-config.git`);
    expect(server.url('configs/cairn-config')).toBe(url);
  });

  it('serves a clone over HTTP that holds the pushed commit', async () => {
    const reader = await createWorkRepo();
    await reader.git('clone', '--quiet', url, 'clone');
    const clone = join(reader.dir, 'clone');
    expect(await reader.git('-C', clone, 'rev-parse', 'HEAD')).toBe(firstCommit);
    expect(await reader.git('-C', clone, 'log', '-1', '--format=%an <%ae> %aI')).toBe(
      'Ada Lovelace <ada@example.com> 2024-01-02T03:04:05+00:00',
    );
    expect(await readFile(join(clone, 'services/api/config/app.yaml'), 'utf8')).toBe('port: 8080\n');
  });

  it('accepts a push over HTTP, up to the bare repository on disk', async () => {
    await author.write({ 'services/api/config/app.yaml': 'port: 9090\n', 'cairn.yaml': null });
    const second = await author.commit('Move the api to port 9090');
    await author.push(url);

    expect(await author.git('ls-remote', url, 'refs/heads/main')).toBe(`${second}\trefs/heads/main`);
    const bare = join(server.root, 'configs/cairn-config.git');
    expect(await author.git('--git-dir', bare, 'rev-parse', 'main')).toBe(second);
    expect(await author.git('--git-dir', bare, 'ls-tree', '-r', '--name-only', 'main')).toBe(
      'services/api/config/app.yaml',
    );
  });

  it('accepts a push bigger than git’s post buffer (a chunked request body)', async () => {
    // Random bytes do not compress: the pack exceeds http.postBuffer (1 MiB) and is sent chunked,
    // without a Content-Length.
    await author.write({ 'assets/blob.bin': randomBytes(3 * 1024 * 1024) });
    const big = await author.commit('Add a large binary');
    await author.push(url);
    expect(await author.git('ls-remote', url, 'refs/heads/main')).toBe(`${big}\trefs/heads/main`);
  });

  it('serves a fetch whose negotiation is gzip-compressed', async () => {
    const reader = await createWorkRepo();
    await reader.git('fetch', '--quiet', url, 'main');
    await reader.git('reset', '--quiet', '--hard', 'FETCH_HEAD');
    // Local commits the server lacks, newer than anything it has: the client offers them as "have"
    // lines first, 16 then 32 per round, and the second round's request (over 1 KiB) goes gzipped.
    for (let minute = 0; minute < 40; minute++) {
      const date = `2030-01-01T00:${String(minute).padStart(2, '0')}:00Z`;
      await reader.commit(`local change ${minute}`, { allowEmpty: true, date });
    }
    await author.write({ 'services/api/config/app.yaml': 'port: 9191\n' });
    const upstream = await author.commit('Move the api to port 9191');
    await author.push(url);

    await reader.git('fetch', '--quiet', url, 'main');
    expect(await reader.git('rev-parse', 'FETCH_HEAD')).toBe(upstream);
  });

  it('counts every request, and speaks protocol v2 when the client asks for it', async () => {
    const before = server.requests();
    // v0: one GET of info/refs. v2: the same GET (announcing capabilities), then a POST of ls-refs,
    // which only happens when the Git-Protocol header reached the backend.
    await author.git('-c', 'protocol.version=0', 'ls-remote', url);
    expect(server.requests()).toBe(before + 1);
    await author.git('-c', 'protocol.version=2', 'ls-remote', url);
    expect(server.requests()).toBe(before + 3);
  });

  it('answers 503 to everything while unavailable, and serves again afterwards', async () => {
    server.setAvailable(false);
    const before = server.requests();
    const failure = await author.git('ls-remote', url).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(LocalServerError);
    expect(failure).toMatchObject({ code: 'GIT_COMMAND_FAILED' });
    expect((failure as Error).message).toMatch(/503/);
    expect(server.requests()).toBeGreaterThan(before);

    const response = await fetch(`${url}/info/refs?service=git-upload-pack`);
    expect(response.status).toBe(503);

    server.setAvailable(true);
    expect(await author.git('ls-remote', url, 'refs/heads/main')).toMatch(
      /^[0-9a-f]{40}\trefs\/heads\/main$/,
    );
  });

  it('answers 404 for a repository that does not exist', async () => {
    const response = await fetch(`${server.url('missing')}/info/refs?service=git-upload-pack`);
    expect(response.status).toBe(404);
  });
});

describe('closing the git server', () => {
  it('stops serving and removes its repositories, and may be done twice', async () => {
    const server = await startGitServer();
    const url = await createBareRepo(server, 'short-lived');
    expect((await fetch(`${url}/info/refs?service=git-upload-pack`)).status).toBe(200);

    await server.close();
    await server.close();

    expect(existsSync(server.root)).toBe(false);
    await expect(fetch(`${url}/info/refs?service=git-upload-pack`)).rejects.toThrow();
  });
});

describe('the git server in a process of its own', () => {
  it('serves pushes and fetches, counts requests, goes unavailable on demand, and removes its repositories on close', async () => {
    const server = await startGitServerProcess();
    try {
      const url = await createBareRepo(server, 'remote');
      const author = await createWorkRepo();
      await author.write({ 'a.yaml': 'a: 1\n' });
      const commit = await author.commit('One file');
      await author.push(url);
      expect(await author.git('ls-remote', url, 'refs/heads/main')).toBe(`${commit}\trefs/heads/main`);
      // The count arrives by message from the server process.
      await waitFor(() => server.requests() >= 3, { description: 'the requests counted' });

      server.setAvailable(false);
      await waitFor(async () => (await fetch(`${url}/info/refs?service=git-upload-pack`)).status === 503, {
        description: 'the server unavailable',
      });
      server.setAvailable(true);
      await waitFor(async () => (await fetch(`${url}/info/refs?service=git-upload-pack`)).status === 200, {
        description: 'the server available again',
      });
    } finally {
      await server.close();
    }
    expect(existsSync(server.root)).toBe(false);
    await expect(fetch(`${server.baseUrl}/x.git/info/refs`)).rejects.toThrow();
  });
});
