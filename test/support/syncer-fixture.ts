import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  DEFAULT_NOTES_REF,
  type DesiredState,
  desiredStateOf,
  FencedWriter,
  type Revision,
  readEnvironment,
  readRepoDir,
  ZkLayout,
  ZkSession,
} from '../../core/index.js';
import { validateRepo } from '../../schemas/index.js';
import { openGitSource } from '../../syncer/git/index.js';
import { type RawSyncerSettings, resolveSyncerConfig, SyncerDaemon } from '../../syncer/index.js';
import { Mirror, type SyncTarget } from '../../syncer/mirror.js';
import type { ValidationCache } from '../../syncer/validation-cache.js';
import { ensureLayout } from '../../syncer/zk/bootstrap.js';
import {
  createBareRepo,
  createWorkRepo,
  type GitServer,
  startGitServer,
  startGitServerProcess,
  startZooKeeper,
  type WorkRepo,
  waitFor,
  type ZooKeeperServer,
} from '../harness/index.js';
import { EXAMPLE_REPO_DIR } from './example-repo.js';

/** What readers find in ZooKeeper, as text: every environment's files, service and release records. */
export interface MirrorView {
  readonly environments: Record<string, Record<string, string>>;
  readonly services: Record<string, string>;
  readonly releases: Record<string, string>;
}

/** A config repository on a real git server, a real ZooKeeper, and the pieces of a syncer between them. */
export interface SyncerFixture {
  readonly zk: ZooKeeperServer;
  readonly git: GitServer;
  readonly repoUrl: string;
  readonly work: WorkRepo;
  readonly layout: ZkLayout;
  /** The fixture's current session (a new one after `renewSession`). */
  readonly session: ZkSession;
  readonly cacheDir: string;
  /** The fixture's session as the elected leader: where a Mirror writes. */
  readonly target: SyncTarget;
  /**
   * After a server outage: waits until the fixture can read again, starting a new session if the
   * old one expired meanwhile (a restart on a loaded machine can outlast it).
   */
  renewSession(timeoutMs?: number): Promise<void>;
  /** A mirror with a git source of its own, as a new syncer process has; `validationCache` as it keeps one. */
  newMirror(options?: { validationCache?: ValidationCache }): Mirror;
  /**
   * A syncer daemon in this process, over the fixture's repository and ZooKeeper, with a cache
   * directory of its own; started, and closed with the fixture if the test has not closed it.
   */
  startDaemon(settings: FixtureDaemonSettings): Promise<SyncerDaemon>;
  /** `cairn sync --once` against this ZooKeeper and cache, reading `repo` (default: the git server's). */
  syncOnceArgs(repo?: string): string[];
  /** What readers should find for the work tree as committed (every environment follows main). */
  expectedView(): Promise<MirrorView>;
  /** What readers find in ZooKeeper. */
  actualView(): Promise<MirrorView>;
  close(): Promise<void>;
}

/** What tests choose of a fixture's syncer daemon; the repository and ZooKeeper are the fixture's. */
export type FixtureDaemonSettings = Required<
  Pick<RawSyncerSettings, 'replicaId' | 'poll' | 'sessionTimeout'>
>;

export const quietLogger = pino({ level: process.env.CAIRN_TEST_LOG ?? 'silent' });

export const NOTES_REFSPEC = `${DEFAULT_NOTES_REF}:${DEFAULT_NOTES_REF}`;

export async function startSyncerFixture(
  options: {
    root?: string;
    tagTracking?: boolean;
    /** The git server in a process of its own (benchmarks: its work stays off this event loop). */
    gitServerProcess?: boolean;
  } = {},
): Promise<SyncerFixture> {
  const zk = await startZooKeeper();
  const git = await (options.gitServerProcess ? startGitServerProcess() : startGitServer());
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
  let { session, target } = await connectAsLeader(zk.connectString, layout, 1);
  const cacheDir = await mkdtemp(join(tmpdir(), 'cairn-syncer-cache-'));
  const sources: { close(): void }[] = [];
  const daemons: { daemon: SyncerDaemon; cacheDir: string }[] = [];
  return {
    zk,
    git,
    repoUrl,
    work,
    layout,
    get session() {
      return session;
    },
    cacheDir,
    get target() {
      return target;
    },
    async renewSession(timeoutMs = 60_000) {
      await waitFor(
        async () => {
          if (session.state === 'expired' || session.state === 'closed') {
            await session.close();
            ({ session, target } = await connectAsLeader(zk.connectString, layout, target.term + 1));
          }
          return (await session.exists(layout.head())) !== undefined;
        },
        { description: "the fixture's session back", timeoutMs },
      );
    },
    async startDaemon(settings) {
      const daemonCache = await mkdtemp(join(tmpdir(), `cairn-${settings.replicaId}-cache-`));
      const daemon = new SyncerDaemon(
        resolveSyncerConfig(
          { repo: repoUrl, zk: zk.connectString, cacheDir: daemonCache, ...settings },
          {},
          { hostname: 'test', pid: 0 },
        ),
        quietLogger,
      );
      daemons.push({ daemon, cacheDir: daemonCache });
      await daemon.start();
      return daemon;
    },
    syncOnceArgs(repo = repoUrl) {
      return ['sync', '--once', '--repo', repo, '--zk', zk.connectString, '--cache-dir', cacheDir];
    },
    newMirror(options = {}) {
      const source = openGitSource({ url: repoUrl, branch: 'main', cacheDir });
      sources.push(source);
      return new Mirror({ layout, source, branch: 'main', logger: quietLogger, ...options });
    },
    async expectedView() {
      const { tree } = await readRepoDir(work.dir);
      const { repo, diagnostics } = validateRepo(tree);
      const errors = diagnostics.filter((d) => d.severity === 'error');
      if (errors.length > 0) throw new Error(`the work tree is invalid: ${JSON.stringify(errors[0])}`);
      return viewOf(desiredStateOf({ branch: { name: 'main', repo, revision: ANY }, tagged: new Map() }));
    },
    actualView: () => readView(session, layout),
    async close() {
      // close() may be called twice: a daemon the test closed already closes at once.
      await Promise.all(daemons.map(({ daemon }) => daemon.close()));
      await Promise.all(daemons.map(({ cacheDir }) => rm(cacheDir, { recursive: true, force: true })));
      for (const source of sources) source.close();
      await session.close();
      await Promise.all([zk.close(), git.close()]);
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

/**
 * A session and a fenced target for Mirrors made by the fixture. They write fenced on a node of
 * their own, outside the syncers' election, so that a `cairn sync` or a daemon under test can still
 * be elected.
 */
async function connectAsLeader(
  connectString: string,
  layout: ZkLayout,
  term: number,
): Promise<{ session: ZkSession; target: SyncTarget }> {
  // The longest session the harness's server allows: a test that validates big commits in this
  // process holds its event loop for seconds on a loaded machine, and pings wait meanwhile.
  const session = await ZkSession.connect({ connectString, sessionTimeoutMs: 10_000 });
  try {
    await ensureLayout(session, layout);
    const fence = await session.create('/fixture-fence', new Uint8Array(0), 'ephemeral');
    const writer = new FencedWriter(session, () => ({ op: 'check', path: fence, version: 0 }));
    return { session, target: { session, writer, term } };
  } catch (error) {
    await session.close();
    throw error;
  }
}

const ANY: Revision = { commit: '0'.repeat(40), author: { name: '', email: '' }, message: '', time: '' };

const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

export function viewOf(state: DesiredState): MirrorView {
  const environments: Record<string, Record<string, string>> = {};
  for (const [key, env] of [...state.environments].sort(([a], [b]) => (a < b ? -1 : 1))) {
    environments[key] = Object.fromEntries(
      [...env.manifest.files].map(([path, id]) => [path, text(state.contents.get(id) as Uint8Array)]),
    );
  }
  return {
    environments,
    services: Object.fromEntries([...state.services].sort().map(([name, data]) => [name, text(data)])),
    releases: Object.fromEntries([...state.releases].sort().map(([key, r]) => [key, text(r.record)])),
  };
}

/** Reads every environment as a reader would (through its pointer), and the service tree and releases. */
export async function readView(session: ZkSession, layout: ZkLayout): Promise<MirrorView> {
  const environments: Record<string, Record<string, string>> = {};
  const releases: Record<string, string> = {};
  for (const service of (await session.childrenIfExists(layout.configDir())).sort()) {
    for (const env of (await session.childrenIfExists(layout.configService(service))).sort()) {
      const read = await readEnvironment(session, layout, service, env);
      if (read.kind !== 'snapshot') continue;
      environments[`${service}/${env}`] = Object.fromEntries(
        [...read.snapshot.files].map(([path, bytes]) => [path, text(bytes)]),
      );
    }
  }
  for (const service of (await session.childrenIfExists(layout.releasesDir())).sort()) {
    for (const env of (await session.childrenIfExists(layout.releaseService(service))).sort()) {
      const node = await session.getIfExists(layout.release(service, env));
      if (node) releases[`${service}/${env}`] = text(node.data);
    }
  }
  const services: Record<string, string> = {};
  for (const service of (await session.childrenIfExists(layout.servicesDir())).sort()) {
    const node = await session.getIfExists(layout.service(service));
    if (node) services[service] = text(node.data);
  }
  return { environments, services, releases };
}
