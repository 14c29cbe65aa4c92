import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBareRepo,
  createWorkRepo,
  type GitServer,
  listenOnLoopback,
  startGitServer,
} from '../../test/harness/index.js';
import { type GitSource, GitUnreachableError, openGitSource } from './index.js';
import { SMALL_PACK } from './pack-sink.js';

/** How the proxy hands on the answer to an `upload-pack` request: the pack's transfer. */
type PackAnswer =
  | { readonly kind: 'whole' }
  /** In pieces of `bytes`, one every `everyMs`: a slow link, never silent for long. */
  | { readonly kind: 'trickle'; readonly bytes: number; readonly everyMs: number }
  /** The first half, then nothing more: a server that stops in the middle of a pack. */
  | { readonly kind: 'stall' }
  /** Whole, with the pack's closing checksum altered: a pack that arrived damaged. */
  | { readonly kind: 'damaged' };

/** A proxy in front of the git server that passes the ref listing as it is and shapes the pack's transfer. */
class PackProxy {
  answer: PackAnswer = { kind: 'whole' };
  readonly #server: Server;
  readonly #stalled = new Set<ServerResponse>();

  constructor(target: string) {
    this.#server = createServer((request, response) => {
      const upstream = httpRequest(
        `${target}${request.url}`,
        { method: request.method, headers: request.headers },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            const body = Buffer.concat(chunks);
            void this.#send(request.method === 'POST' ? this.answer : { kind: 'whole' }, body, response);
          });
        },
      );
      request.pipe(upstream);
    });
  }

  async #send(shape: PackAnswer, body: Buffer, response: ServerResponse): Promise<void> {
    switch (shape.kind) {
      case 'whole':
        response.end(body);
        return;
      case 'trickle':
        for (let start = 0; start < body.length; start += shape.bytes) {
          if (start > 0) await delay(shape.everyMs);
          response.write(body.subarray(start, start + shape.bytes));
        }
        response.end();
        return;
      case 'stall':
        this.#stalled.add(response);
        response.write(body.subarray(0, body.length >> 1));
        return;
      case 'damaged': {
        // The pack's last byte (of its closing checksum) ends the last packet of side-band 1;
        // progress on band 2 may come after it.
        const damaged = Buffer.from(body);
        const last = lastPackByte(damaged);
        damaged[last] = (damaged[last] ?? 0) ^ 0xff;
        response.end(damaged);
        return;
      }
    }
  }

  listen(): Promise<string> {
    return listenOnLoopback(this.#server);
  }

  close(): Promise<void> {
    for (const response of this.#stalled) response.destroy();
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

describe('the transfer of a pack', () => {
  let server: GitServer;
  let proxy: PackProxy;
  let proxyUrl: string;
  const tempDirs: string[] = [];

  beforeAll(async () => {
    server = await startGitServer();
    proxy = new PackProxy(server.baseUrl);
    proxyUrl = await proxy.listen();
  });

  afterAll(async () => {
    await proxy?.close();
    await server?.close();
    await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  /**
   * A repository of incompressible files (a pack of about 100 KB; with `manyFiles`, more objects
   * than a pack indexed in memory holds), and a source fetching it through the proxy.
   */
  async function repoBehindProxy(name: string, timeoutMs: number, manyFiles = 0) {
    const url = await createBareRepo(server, name);
    const author = await createWorkRepo();
    const files: Record<string, string> = {};
    for (let n = 0; n < 8; n++)
      files[`services/s${n}/config/blob.txt`] = randomBytes(12 * 1024).toString('base64');
    for (let n = 0; n < manyFiles; n++) files[`services/many/config/f${n}.txt`] = `${n}\n`;
    await author.write(files);
    const head = await author.commit('Initial configuration');
    await author.push(url);
    const cacheDir = await mkdtemp(join(tmpdir(), 'cairn-git-cache-'));
    tempDirs.push(cacheDir);
    const source = openGitSource({ url: `${proxyUrl}/${name}.git`, branch: 'main', cacheDir, timeoutMs });
    return { source, head, cacheDir };
  }

  /** What fetching the head fails with while the proxy shapes the pack as `answer`; whole again after. */
  async function failedFetch(source: GitSource, answer: PackAnswer): Promise<unknown> {
    proxy.answer = answer;
    try {
      return await source.fetchHead().catch((error: unknown) => error);
    } finally {
      proxy.answer = { kind: 'whole' };
    }
  }

  it('takes as long as the bytes take when they keep coming, longer than the deadline in all', async () => {
    const { source, head } = await repoBehindProxy('trickled', 2_000);
    // About 70 pieces, one every 100 ms: some 7 s in all, never 2 s without a byte.
    proxy.answer = { kind: 'trickle', bytes: 2 * 1024, everyMs: 100 };
    try {
      expect(await source.fetchHead()).toBe(head);
    } finally {
      proxy.answer = { kind: 'whole' };
      source.close();
    }
  });

  it.each([
    ['held in memory', 0],
    ['streaming into git', SMALL_PACK.objects],
  ])(
    'gives up on a server that stops sending in the middle of a pack, keeping none of it (%s)',
    async (_, manyFiles) => {
      const { source, head, cacheDir } = await repoBehindProxy(`stalled-${manyFiles}`, 1_000, manyFiles);
      const failure = await failedFetch(source, { kind: 'stall' });
      expect(failure).toBeInstanceOf(GitUnreachableError);
      expect((failure as Error).message).toContain('nothing received for 1000 ms');
      expect(await packFiles(cacheDir)).toEqual([]);

      expect(await source.fetchHead()).toBe(head);
      source.close();
    },
  );

  it.each([
    ['indexed in memory', 0, 8],
    ['indexed by git as it arrives', SMALL_PACK.objects, SMALL_PACK.objects + 8],
  ])(
    'reports a pack that arrived damaged as unreachable, keeps none of it, and fetches it whole next time (%s)',
    async (_, manyFiles, files) => {
      const { source, head, cacheDir } = await repoBehindProxy(`damaged-${manyFiles}`, 30_000, manyFiles);
      const failure = await failedFetch(source, { kind: 'damaged' });
      expect(failure).toBeInstanceOf(GitUnreachableError);
      expect(failure).toMatchObject({ code: 'GIT_UNREACHABLE', cause: { code: 'PackIndexError' } });
      expect(await packFiles(cacheDir)).toEqual([]);

      expect(await source.fetchHead()).toBe(head);
      const { snapshot } = await source.readTree(head);
      expect(snapshot.tree.size).toBe(files);
      source.close();
    },
  );
});

/** Every file in a store's pack folder: packs, indexes, and any temporary file a transfer left. */
async function packFiles(gitdir: string): Promise<string[]> {
  return (await readdir(join(gitdir, 'objects', 'pack')).catch(() => [] as string[])).sort();
}

/** Where the last byte of side-band 1 lies in an `upload-pack` answer (pkt-lines: 4 hex digits of length, then the payload). */
function lastPackByte(answer: Buffer): number {
  let last = -1;
  for (let start = 0; start + 4 <= answer.length; ) {
    const length = Number.parseInt(answer.toString('latin1', start, start + 4), 16);
    if (length < 4) {
      start += 4;
      continue;
    }
    if (answer[start + 4] === 1) last = start + length - 1;
    start += length;
  }
  if (last < 0) throw new Error('the answer holds no pack');
  return last;
}
