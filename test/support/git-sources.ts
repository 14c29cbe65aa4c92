import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type GitSource, openGitSource } from '../../syncer/git/index.js';
import {
  createBareRepo,
  createWorkRepo,
  type GitServer,
  startGitServer,
  type WorkRepo,
} from '../harness/index.js';

/**
 * For the tests of this folder: a real git server for the enclosing `describe`, a scratch dir, and
 * git sources that are all closed afterwards.
 */
export function useGitSources() {
  let server: GitServer | undefined;
  let scratch = '';
  const sources: GitSource[] = [];

  beforeAll(async () => {
    server = await startGitServer();
    scratch = await mkdtemp(join(tmpdir(), 'cairn-git-test-'));
  });

  afterAll(async () => {
    for (const source of sources) source.close();
    await server?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const fixture = {
    get server(): GitServer {
      if (!server) throw new Error('the git server starts in beforeAll');
      return server;
    },
    get scratch(): string {
      return scratch;
    },
    /** Opens a source with a cache dir of its own, closed after the tests. */
    open(url: string, branch = 'main'): { source: GitSource; cacheDir: string } {
      const cacheDir = join(scratch, `cache-${sources.length}`);
      const source = openGitSource({ url, branch, cacheDir });
      sources.push(source);
      return { source, cacheDir };
    },
    /** A bare repository on the server, a work repository to author commits, and a source reading it. */
    async repository(name: string): Promise<{ url: string; author: WorkRepo; source: GitSource }> {
      const url = await createBareRepo(fixture.server, name);
      const author = await createWorkRepo();
      return { url, author, source: fixture.open(url).source };
    },
  };
  return fixture;
}
