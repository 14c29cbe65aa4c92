import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBareRepo,
  createWorkRepo,
  type GitServer,
  listenOnLoopback,
  startGitServer,
  type WorkRepo,
} from '../../test/harness/index.js';
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

  listen(): Promise<string> {
    return listenOnLoopback(this.#server);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describe('a head announced by a push webhook', () => {
  let server: GitServer;
  let gate: ListingGate;
  let cacheDir: string;
  let url: string;
  let author: WorkRepo;
  let source: GitSource;

  // One repository for the whole file, fetched once through the proxy (a first fetch has no earlier
  // listing to lend its capabilities); each test pushes on from where the one before left the branch.
  beforeAll(async () => {
    server = await startGitServer();
    gate = new ListingGate(server.baseUrl);
    const proxyUrl = await gate.listen();
    url = await createBareRepo(server, 'config');
    author = await createWorkRepo();
    await author.write({ 'cairn.yaml': 'limits: {}\n' });
    const first = await author.commit('Initial configuration');
    await author.push(url);
    cacheDir = await mkdtemp(join(tmpdir(), 'cairn-git-cache-'));
    source = openGitSource({ url: `${proxyUrl}/config.git`, branch: 'main', cacheDir });
    expect(await source.fetchHead()).toBe(first);
  });

  afterAll(async () => {
    source?.close();
    await gate?.close();
    await server?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  /** Commits a change and pushes it to `branch` (forced, when asked). */
  async function pushed(n: number, { branch = 'main', force = false } = {}) {
    await author.write({ 'a.yaml': `a: ${n}\n` });
    const commit = await author.commit(`Change ${n}`);
    await author.push(url, `HEAD:refs/heads/${branch}`, { force });
    return commit;
  }

  /** The requests the proxy saw during `fetchHead()`, and its answer. */
  async function fetchLogged(): Promise<{ head: string; requests: string[] }> {
    gate.log.length = 0;
    const head = await source.fetchHead();
    return { head, requests: [...gate.log] };
  }

  it('is fetched while the refs are listed, not after: the fetch costs the longer request, not both', async () => {
    const second = await pushed(1);
    source.announceHead(second);
    gate.holdListing = true;
    try {
      expect(await fetchLogged()).toEqual({ head: second, requests: ['listing', 'upload-pack'] });
    } finally {
      gate.holdListing = false;
    }
    // The listing's answer was held until the upload-pack came: it was sent without waiting for it.
    expect(gate.timedOut).toBe(0);
    const { snapshot } = await source.readTree(second);
    expect(Buffer.from(snapshot.tree.get('a.yaml') ?? []).toString()).toBe('a: 1\n');
    // Nothing new since: the listing alone, and the announcement was used up.
    expect(await fetchLogged()).toEqual({ head: second, requests: ['listing'] });
  });

  it('never moves the branch to a commit the listing does not name (another branch, a stale announcement)', async () => {
    const main = await author.head();
    await author.git('checkout', '--quiet', '-b', 'feature');
    const unmerged = await pushed(2, { branch: 'feature' });
    await author.git('checkout', '--quiet', 'main');
    source.announceHead(unmerged);
    // Its objects came (the server sends any commit it holds), and changed nothing.
    expect(await fetchLogged()).toEqual({ head: main, requests: ['listing', 'upload-pack'] });
    expect(await source.isAncestor(unmerged, main)).toBe(false);

    // The branch moves on past it: the listing's head is fetched as without an announcement, and
    // the unmerged commit, in the store already, is not asked for again.
    const merged = await pushed(3);
    source.announceHead(unmerged);
    expect(await fetchLogged()).toEqual({ head: merged, requests: ['listing', 'upload-pack'] });
  });

  it('is taken when the listing names it, even when it does not descend from the last head (a force-push)', async () => {
    const second = await pushed(4);
    expect(await source.fetchHead()).toBe(second);
    await author.git('reset', '--quiet', '--hard', 'HEAD~1');
    const rewritten = await pushed(5, { force: true });
    source.announceHead(rewritten);
    expect(await fetchLogged()).toEqual({ head: rewritten, requests: ['listing', 'upload-pack'] });
    expect(await source.isAncestor(second, rewritten)).toBe(false);
  });

  it('costs one request more and nothing else when the server does not hold it', async () => {
    const commit = await pushed(6);
    source.announceHead('0123456789abcdef0123456789abcdef01234567');
    expect(await fetchLogged()).toEqual({
      head: commit,
      requests: ['listing', 'upload-pack', 'upload-pack'],
    });
  });

  it('is ignored when it is not an object id, or names a deleted branch (all zeros)', async () => {
    const commit = await pushed(7);
    const bad = ['not-a-commit', '0'.repeat(40), `${'a'.repeat(40)}\n`, 'A'.repeat(40), ''];
    for (const [n, announced] of bad.entries()) {
      source.announceHead(announced);
      expect(await fetchLogged()).toEqual({
        head: commit,
        requests: n === 0 ? ['listing', 'upload-pack'] : ['listing'],
      });
    }
  });
});
