import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { inventoryOf, readRepoDir, type ZkInventory, ZkLayout, ZkSession } from '../../core/index.js';
import { validateRepo } from '../../schemas/index.js';
import { openGitSource } from '../../syncer/git/index.js';
import { Mirror } from '../../syncer/mirror.js';
import { ensureLayout } from '../../syncer/zk/bootstrap.js';
import { readInventory } from '../../syncer/zk/read-inventory.js';
import {
  createBareRepo,
  createWorkRepo,
  type GitServer,
  startGitServer,
  startZooKeeper,
  type WorkRepo,
  type ZooKeeperServer,
} from '../harness/index.js';
import { EXAMPLE_REPO_DIR } from './example-repo.js';

/** A config repository on a real git server, a real ZooKeeper, and the pieces of a syncer between them. */
export interface SyncerFixture {
  readonly zk: ZooKeeperServer;
  readonly git: GitServer;
  readonly repoUrl: string;
  readonly work: WorkRepo;
  readonly layout: ZkLayout;
  readonly session: ZkSession;
  readonly cacheDir: string;
  newMirror(): Mirror;
  /** `cairn sync --once` against this ZooKeeper and cache, reading `repo` (default: the git server's). */
  syncOnceArgs(repo?: string): string[];
  /** What ZooKeeper should hold for the work tree as committed. */
  expectedInventory(): Promise<ZkInventory>;
  /** What ZooKeeper holds. */
  actualInventory(): Promise<ZkInventory>;
  close(): Promise<void>;
}

export const quietLogger = pino({ level: process.env.CAIRN_TEST_LOG ?? 'silent' });

export async function startSyncerFixture(
  options: { root?: string; tagTracking?: boolean } = {},
): Promise<SyncerFixture> {
  const zk = await startZooKeeper();
  const git = await startGitServer();
  const repoUrl = await createBareRepo(git, 'config');
  const work = await createWorkRepo();
  await work.copyFrom(EXAMPLE_REPO_DIR);
  if (!options.tagTracking) {
    // Every environment follows main here, so each commit's whole model is what ZooKeeper should
    // hold; environments that track release tags have tests of their own.
    const settings = await readFile(join(work.dir, 'cairn.yaml'), 'utf8');
    await writeFile(join(work.dir, 'cairn.yaml'), settings.replace(/tag: "v\*"/g, 'branch: main'));
  }
  await work.commit('Import the Northwind configuration');
  await work.push(repoUrl);
  const layout = new ZkLayout(options.root ?? '/cairn');
  const session = await ZkSession.connect({ connectString: zk.connectString, sessionTimeoutMs: 5000 });
  await ensureLayout(session, layout);
  const cacheDir = await mkdtemp(join(tmpdir(), 'cairn-syncer-cache-'));
  const sources: { close(): void }[] = [];
  return {
    zk,
    git,
    repoUrl,
    work,
    layout,
    session,
    cacheDir,
    syncOnceArgs(repo = repoUrl) {
      return ['sync', '--once', '--repo', repo, '--zk', zk.connectString, '--cache-dir', cacheDir];
    },
    newMirror() {
      const source = openGitSource({ url: repoUrl, branch: 'main', cacheDir });
      sources.push(source);
      return new Mirror({ session, layout, source, logger: quietLogger });
    },
    async expectedInventory() {
      const { tree } = await readRepoDir(work.dir);
      const { repo, diagnostics } = validateRepo(tree);
      const errors = diagnostics.filter((d) => d.severity === 'error');
      if (errors.length > 0) throw new Error(`the work tree is invalid: ${JSON.stringify(errors[0])}`);
      return inventoryOf(repo, layout);
    },
    actualInventory: () => readInventory(session, layout),
    async close() {
      for (const source of sources) source.close();
      await session.close();
      await Promise.all([zk.close(), git.close()]);
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

/** Inventories as plain objects of text, so a failing comparison shows which znode differs and how. */
export function readable(inventory: ZkInventory): Record<string, string> {
  return Object.fromEntries(
    [...inventory]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([path, data]) => [path, Buffer.from(data).toString('latin1')]),
  );
}
