import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, createWorkRepo, type GitServer, startGitServer } from '../../test/harness/index.js';
import { type GitSource, openGitSource } from './index.js';

/**
 * A proxy in front of the git server that records each request, and can hold the ref listing's
 * answer until an upload-pack request has arrived (or a deadline passes): a fetch that asks for an
 * announced head alongside the listing gets through at once, one that asks after it waits.
 */
class ListingGate {
  readonly log: string[] = [];
  holdListing = false;
  /** Listings that were let through at the deadline, no upload-pack having come meanwhile. */
  timedOut = 0;
  #waiting: (() => void)[] = [];
  readonly #server: Server;

  constructor(target: string) {
    this.#server = createServer((request, response) => {
      const kind = request.method === 'POST' ? 'upload-pack' : 'listing';
      this.log.push(kind);
      if (kind === 'upload-pack') for (const release of this.#waiting.splice(0)) release();
      const forward = () => {
        const upstream = httpRequest(
          `${target}${request.url}`,
          { method: request.method, headers: request.headers },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
          },
        );
        request.pipe(upstream);
      };
      if (kind === 'listing' && this.holdListing) {
        const timer = setTimeout(() => {
          this.timedOut++;
          forward();
        }, 5_000);
        this.#waiting.push(() => {
          clearTimeout(timer);
          forward();
        });
      } else forward();
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
    return `http://127.0.0.1:${address.port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describe('a head announced by a push webhook', () => {
  let server: GitServer;
  let gate: ListingGate;
  let proxyUrl: string;
  const tempDirs: string[] = [];
  const sources: GitSource[] = [];

  beforeAll(async () => {
    server = await startGitServer();
    gate = new ListingGate(server.baseUrl);
    proxyUrl = await gate.listen();
  });

  afterAll(async () => {
    for (const source of sources) source.close();
    await gate?.close();
    await server?.close();
    await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /** A repository with one commit, fetched once through the proxy (a first fetch has nothing to lend its capabilities). */
  async function fetchedRepo(name: string) {
    const url = await createBareRepo(server, name);
    const author = await createWorkRepo();
    await author.write({ 'cairn.yaml': 'limits: {}\n' });
    const first = await author.commit('Initial configuration');
    await author.push(url);
    const cacheDir = await mkdtemp(join(tmpdir(), 'cairn-git-cache-'));
    tempDirs.push(cacheDir);
    const source = openGitSource({ url: `${proxyUrl}/${name}.git`, branch: 'main', cacheDir });
    sources.push(source);
    expect(await source.fetchHead()).toBe(first);
    return { url, author, source, first };
  }

  /** Commits a change and pushes it to `branch` (forced, when asked). */
  async function pushed(
    author: Awaited<ReturnType<typeof fetchedRepo>>['author'],
    url: string,
    n: number,
    { branch = 'main', force = false } = {},
  ) {
    await author.write({ 'a.yaml': `a: ${n}\n` });
    const commit = await author.commit(`Change ${n}`);
    await author.push(url, `HEAD:refs/heads/${branch}`, { force });
    return commit;
  }

  it('is fetched while the refs are listed, not after: the fetch costs the longer request, not both', async () => {
    const { url, author, source } = await fetchedRepo('announced');
    const second = await pushed(author, url, 1);
    source.announceHead(second);
    gate.log.length = 0;
    gate.holdListing = true;
    try {
      expect(await source.fetchHead()).toBe(second);
    } finally {
      gate.holdListing = false;
    }
    // The listing's answer was held until the upload-pack came: it was sent without waiting for it.
    expect(gate.timedOut).toBe(0);
    expect(gate.log).toEqual(['listing', 'upload-pack']);
    const { snapshot } = await source.readTree(second);
    expect(Buffer.from(snapshot.tree.get('a.yaml') ?? []).toString()).toBe('a: 1\n');
    // Nothing new since: the listing alone, and the announcement was used up.
    gate.log.length = 0;
    expect(await source.fetchHead()).toBe(second);
    expect(gate.log).toEqual(['listing']);
  });

  it('never moves the branch to a commit the listing does not name (another branch, a stale announcement)', async () => {
    const { url, author, source, first } = await fetchedRepo('other-branch');
    await author.git('checkout', '--quiet', '-b', 'feature');
    const unmerged = await pushed(author, url, 2, { branch: 'feature' });
    source.announceHead(unmerged);
    gate.log.length = 0;
    expect(await source.fetchHead()).toBe(first);
    // Its objects came (the server sends any commit it holds), and changed nothing.
    expect(gate.log).toEqual(['listing', 'upload-pack']);
    expect(await source.isAncestor(unmerged, first)).toBe(false);

    // The branch moves on past it: the listing's head is fetched as without an announcement.
    await author.git('checkout', '--quiet', 'main');
    const merged = await pushed(author, url, 3);
    source.announceHead(unmerged);
    gate.log.length = 0;
    expect(await source.fetchHead()).toBe(merged);
    // The unmerged commit is in the store already: no request for it, one for the branch.
    expect(gate.log).toEqual(['listing', 'upload-pack']);
  });

  it('is taken when the listing names it, even when it does not descend from the last head (a force-push)', async () => {
    const { url, author, source, first } = await fetchedRepo('forced');
    const second = await pushed(author, url, 4);
    expect(await source.fetchHead()).toBe(second);
    await author.git('reset', '--quiet', '--hard', first);
    const rewritten = await pushed(author, url, 5, { force: true });
    source.announceHead(rewritten);
    gate.log.length = 0;
    expect(await source.fetchHead()).toBe(rewritten);
    expect(gate.log).toEqual(['listing', 'upload-pack']);
    expect(await source.isAncestor(second, rewritten)).toBe(false);
  });

  it('costs one request more and nothing else when the server does not hold it', async () => {
    const { url, author, source } = await fetchedRepo('unknown');
    const second = await pushed(author, url, 6);
    source.announceHead('0123456789abcdef0123456789abcdef01234567');
    gate.log.length = 0;
    expect(await source.fetchHead()).toBe(second);
    expect(gate.log).toEqual(['listing', 'upload-pack', 'upload-pack']);
  });

  it('is ignored when it is not an object id, or names a deleted branch (all zeros)', async () => {
    const { url, author, source } = await fetchedRepo('malformed');
    const commit = await pushed(author, url, 10);
    const expected = [['listing', 'upload-pack'], ['listing'], ['listing'], ['listing']];
    for (const [n, announced] of ['not-a-commit', '0'.repeat(40), `${'a'.repeat(40)}\n`, ''].entries()) {
      source.announceHead(announced);
      gate.log.length = 0;
      expect(await source.fetchHead()).toBe(commit);
      expect(gate.log).toEqual(expected[n]);
    }
  });
});
