import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { type CairnError, newestMatchingTag } from '../../core/index.js';
import { Dashboard } from '../../dashboard/index.js';
import {
  importDirectoryAsRepo,
  isPortFree,
  startZooKeeper,
  waitFor,
  type ZooKeeperServer,
} from '../../local/index.js';
import {
  resolveSyncerConfig,
  type SyncerConfig,
  SyncerDaemon,
  type SyncerStatus,
  type SyncProgress,
} from '../../syncer/index.js';
import { type CommandContext, type CommandIo, EXIT_OK } from '../io.js';
import { createLogger } from '../logger.js';
import { packageRoot } from '../package-root.js';
import { Progress } from '../progress.js';
import { type BannerFacts, formatBanner, nextReleaseTag, shellQuote } from '../start/banner.js';
import { cairnCommand } from '../start/cairn-command.js';
import { EXAMPLE_SERVICE, type ExampleService, startExampleService } from '../start/example-service.js';
import { type PlayedHost, startPlayedHosts } from '../start/played-hosts.js';
import { checkStartRequest } from '../start/preflight.js';
import {
  ensureCommitIdentity,
  outlineRepository,
  type RepositoryOutline,
  readHistory,
} from '../start/repository.js';
import { STATE_ENTRIES, StateDir, StateDirError } from '../start/state-dir.js';
import { ensureSystemPackages } from '../system-packages.js';

const EXAMPLE_REPO = join(packageRoot(), 'example-config-repo');
const DEFAULT_STATE_DIR = '.cairn';
const BRANCH = 'main';
/** A first sync reads, validates and writes every file: minutes for a very large repository. */
const FIRST_SYNC_DEADLINE_MS = 30 * 60_000;

interface StartFlags {
  readonly repo?: string;
  readonly zk?: string;
  readonly listen?: string;
  readonly root: string;
  readonly stateDir?: string;
  readonly fresh?: boolean;
}

const STOPPING =
  'stopping: the example service and the agents stop, the syncer finishes the sync in progress, then ZooKeeper stops; Ctrl-C again stops at once';

/** A stop signal arrived while cairn start was still starting things. */
class StartStopped extends Error {}

/** Where the repository comes from, as the banner tells it. */
type RepositoryOrigin = BannerFacts['repository']['origin'];

/**
 * `cairn start`: everything on this machine, to see Cairn work. A local ZooKeeper (unless --zk names
 * one), a git repository (a plain directory, example-config-repo/ by default, imported into a new
 * one), and a syncer mirroring it every 2 s and on webhooks, until Ctrl-C. What it creates lives in
 * the state directory and outlives it: starting again continues with the same commits and data.
 */
export function registerStart(
  program: Command,
  { io, setExitCode, stopSignal, systemPackages }: CommandContext,
): void {
  program
    .command('start')
    .description('run Cairn locally: a ZooKeeper, a config repository and a syncer mirroring it')
    .option(
      '--repo <dir>',
      'a git repository to read in place, or a plain directory to import into a new one (default: example-config-repo)',
    )
    .option('--zk <hosts>', 'use this ZooKeeper instead of starting one')
    .option('--root <path>', 'root znode', '/cairn')
    .option(
      '--listen <addr:port>',
      'where the syncer serves the dashboard, /healthz, /metrics and /webhook',
      '127.0.0.1:0',
    )
    .option(
      '--state-dir <dir>',
      `where the imported repository, ZooKeeper's data and the syncer's cache are kept (default: ${DEFAULT_STATE_DIR})`,
    )
    .option('--fresh', 'start over: delete what cairn start created in the state directory first')
    .action(async (flags: StartFlags) => {
      const log = createLogger(io, 'start');
      // Listening from the start: Ctrl-C during a long first sync stops everything in order too.
      const stopped = stopSignal();
      const stopping = new AbortController();
      void stopped.then(() => stopping.abort(new StartStopped()));
      const unlessStopped = <T>(work: Promise<T>): Promise<T> =>
        Promise.race([
          work,
          stopped.then((): never => {
            throw new StartStopped();
          }),
        ]);
      // Packages are installed whole: apt is not interrupted half-way by a stop.
      await ensureSystemPackages(io, systemPackages, log);
      const source = resolve(io.cwd, flags.repo ?? (existsSync(EXAMPLE_REPO) ? EXAMPLE_REPO : '.'));
      // Mistakes end it here, before the state directory exists: nothing is left behind.
      await checkStartRequest(
        {
          source: { path: source, ...(flags.repo !== undefined ? { given: flags.repo } : {}) },
          listen: flags.listen ?? '127.0.0.1:0',
          root: flags.root,
          ...(flags.zk !== undefined ? { zk: flags.zk } : {}),
        },
        io.env,
      );
      const state = await StateDir.claim(resolve(io.cwd, flags.stateDir ?? DEFAULT_STATE_DIR));
      // Undone in reverse order: the syncer stops before the ZooKeeper it writes to.
      const stops: (() => Promise<void>)[] = [() => state.release()];
      try {
        if (flags.fresh) {
          const doomed = state.createdEntries();
          log.warn(
            { stateDir: state.path, deleting: doomed.join(' ') || 'nothing' },
            'starting over (--fresh): deleting what cairn start created in the state directory',
          );
          await state.removeCreated();
        }
        await state.ignoreInGit();

        const repository = await unlessStopped(openRepository(io, log, state, source));

        let zk: ZooKeeperServer | undefined;
        if (!flags.zk) {
          const starting = startLocalZooKeeper(io, log, state);
          // Stopped whenever it is up, even if a stop came first.
          stops.push(async () => (await starting.catch(() => undefined))?.close());
          zk = await unlessStopped(starting);
        }
        const connectString = flags.zk ?? (zk as ZooKeeperServer).connectString;

        await state.created(STATE_ENTRIES.syncerCache);
        const webhookSecret = randomBytes(16).toString('hex');
        let reading: SyncProgress | undefined;
        const settings = resolveSyncerConfig(
          {
            repo: repository.path,
            branch: BRANCH,
            zk: connectString,
            root: flags.root,
            listen: flags.listen,
            webhookSecret,
            poll: '2s',
            cacheDir: state.entry(STATE_ENTRIES.syncerCache),
            // The syncer validates a commit in one go, and on a busy machine a 10,000-file commit
            // keeps it from answering ZooKeeper's pings for longer than the 10 s default: the
            // session would expire mid-sync, again and again. Nothing here needs a fast failover.
            ...(io.env.CAIRN_ZK_SESSION_TIMEOUT ? {} : { sessionTimeout: '30s' }),
          },
          io.env,
          { hostname: hostname(), pid: process.pid },
        );
        const config: SyncerConfig = {
          ...settings,
          onProgress: (progress) => {
            reading = progress;
          },
        };
        const syncerLogger = createLogger(io, 'syncer');
        // The syncer's address serves the dashboard too; the daemon closes it with itself.
        const dashboard = new Dashboard({ endpoint: config.endpoint, logger: syncerLogger });
        const daemon = new SyncerDaemon(config, syncerLogger, dashboard);
        stops.push(() => daemon.close());
        dashboard.start();
        const { port } = await unlessStopped(daemon.start());
        const head = await firstSync(
          io,
          daemon,
          config.endpoint.sessionTimeoutMs,
          () => reading,
          stopping.signal,
        );

        const outline = await outlineRepository(repository.path);
        const played = outline.played
          ? await unlessStopped(
              startAgents(io, state, stops, { ...outline.played, zk: connectString, root: flags.root }),
            )
          : undefined;
        const sdkService = await unlessStopped(
          startSdkService(io, state, stops, outline, { zk: connectString, root: flags.root }),
        );

        const host = config.listen?.host === '0.0.0.0' ? '127.0.0.1' : config.listen?.host;
        const facts = await gatherFacts(io, flags, state, outline, {
          repository,
          zookeeper: { connectString, ...(zk ? { dataDir: display(io, zk.dataDir) } : {}) },
          root: config.endpoint.layout.root,
          syncer: { base: `http://${host}:${port}`, webhookSecret },
          head,
          ...(played
            ? {
                agents: {
                  env: played.env,
                  prefixes: played.hosts.map((agent) => display(io, agent.prefix)),
                },
                ...(outline.exampleOnHost
                  ? {
                      exampleOnHost: join(
                        state.entry(STATE_ENTRIES.agents),
                        outline.exampleOnHost.host,
                        outline.exampleOnHost.path,
                      ),
                    }
                  : {}),
              }
            : {}),
          ...(sdkService
            ? { sdkService: { service: sdkService.service, env: sdkService.env, url: sdkService.url } }
            : {}),
        });
        // Once, when everything is ready, in one write: nothing logged meanwhile can cut it.
        io.status?.(undefined);
        io.stdout(formatBanner(facts));

        await stopped;
        log.info(STOPPING);
        setExitCode(EXIT_OK);
      } catch (error) {
        if (!(error instanceof StartStopped)) throw error;
        log.info(`${STOPPING} (before everything was up)`);
        setExitCode(EXIT_OK);
      } finally {
        const progress = new Progress(io, 'stopping');
        try {
          for (const stop of stops.reverse()) await stop();
        } finally {
          progress.end();
        }
      }
      log.info(
        { stateDir: state.path },
        'stopped; the repository, ZooKeeper’s data and the agents’ files are kept for the next start',
      );
    });
}

/**
 * The repository to mirror: a git repository is read in place; a plain directory is imported into
 * the state directory once, and that copy (with every commit made in it since) is used from then on.
 */
async function openRepository(
  io: CommandIo,
  log: Logger,
  state: StateDir,
  source: string,
): Promise<{ path: string; origin: RepositoryOrigin }> {
  if (existsSync(join(source, '.git'))) return { path: source, origin: { kind: 'in-place' } };
  const target = state.entry(STATE_ENTRIES.repo);
  if (state.has(STATE_ENTRIES.repo)) {
    const from = state.importedFrom ?? '';
    if (from !== source) {
      throw new StateDirError(
        'STATE_DIR_HOLDS_ANOTHER_REPOSITORY',
        `${target} was imported from ${from}, and may hold commits of yours: to import ${source} instead, start over with --fresh (which deletes it) or pass --state-dir <another folder>`,
      );
    }
    log.info({ repo: target }, 'continuing with the repository of the last start');
    return { path: target, origin: { kind: 'continued', from: display(io, from) } };
  }
  if (existsSync(target)) {
    throw new StateDirError(
      'STATE_DIR_NOT_OURS',
      `${target} exists but cairn start did not make it: move it away, or pass --state-dir <another folder>`,
    );
  }
  // Recorded first: an import interrupted before the rename leaves nothing at `target`, and one
  // interrupted after it leaves a repository that --fresh may delete.
  await state.created(STATE_ENTRIES.repo, { importedFrom: source });
  const progress = new Progress(io, `importing ${display(io, source)}`, 'files');
  let imported: { repo: string; commit: string };
  try {
    imported = await importDirectoryAsRepo(source, {
      into: target,
      onProgress: (done, total) =>
        progress.update(
          done < total
            ? { done, total }
            : { label: `importing ${display(io, source)}: committing`, done: undefined, total: undefined },
        ),
    });
  } finally {
    progress.end();
  }
  await ensureCommitIdentity(imported.repo);
  log.info(
    { repo: imported.repo, commit: imported.commit },
    `imported ${display(io, source)} as a git repository`,
  );
  return { path: imported.repo, origin: { kind: 'imported', from: display(io, source) } };
}

/** ZooKeeper in the state directory, on the port it had last time when that port is still free. */
async function startLocalZooKeeper(io: CommandIo, log: Logger, state: StateDir): Promise<ZooKeeperServer> {
  await state.created(STATE_ENTRIES.zookeeper);
  const previous = state.zookeeperPort;
  const port = previous !== undefined && (await isPortFree(previous)) ? previous : undefined;
  const progress = new Progress(io, 'starting ZooKeeper');
  let zk: ZooKeeperServer;
  try {
    zk = await startZooKeeper({
      dir: state.entry(STATE_ENTRIES.zookeeper),
      ...(port !== undefined ? { port } : {}),
      tickTime: 2000,
    });
  } finally {
    progress.end();
  }
  await state.created(STATE_ENTRIES.zookeeper, { zookeeperPort: zk.port });
  log.info({ connectString: zk.connectString, log: zk.logPath }, 'ZooKeeper is serving');
  return zk;
}

/**
 * Waits for the syncer's first sync, saying on the status line what it waits for: connecting, an
 * earlier syncer letting go, then a bar of files read and a spinner while they are validated and
 * written.
 */
async function firstSync(
  io: CommandIo,
  daemon: SyncerDaemon,
  sessionTimeoutMs: number,
  reading: () => SyncProgress | undefined,
  signal: AbortSignal,
): Promise<BannerFacts['head']> {
  const progress = new Progress(io, 'connecting to ZooKeeper', 'files');
  let standbySince: number | undefined;
  try {
    const status = await waitFor(
      () => {
        const current = daemon.status();
        standbySince = current.role === 'standby' ? (standbySince ?? Date.now()) : undefined;
        progress.update(describeWait(current, standbySince, sessionTimeoutMs, reading()));
        return current.mirrored || current.refused ? current : undefined;
      },
      { description: 'the first sync', timeoutMs: FIRST_SYNC_DEADLINE_MS, intervalMs: 100, signal },
    );
    if (status.mirrored) return { kind: 'mirrored', commit: status.mirrored };
    const refused = status.refused as NonNullable<SyncerStatus['refused']>;
    return { kind: 'refused', commit: refused.commit, reason: refused.reason };
  } finally {
    progress.end();
  }
}

/** A syncer is a standby for a moment while it joins; longer, an earlier one still leads. */
const JOINING_MS = 2_000;

function describeWait(
  status: SyncerStatus,
  standbySince: number | undefined,
  sessionTimeoutMs: number,
  reading: SyncProgress | undefined,
): { label: string; done?: number; total?: number } {
  const spinner = { done: undefined, total: undefined };
  if (status.role === 'leader') {
    if (!reading) return { label: 'first sync: reading the commit', ...spinner };
    if (reading.done < reading.total)
      return { label: 'first sync: reading files', done: reading.done, total: reading.total };
    return {
      label: `first sync: validating and writing ${reading.total.toLocaleString('en-US')} files`,
      ...spinner,
    };
  }
  if (status.role === 'standby' && standbySince !== undefined && Date.now() - standbySince > JOINING_MS)
    return {
      label: `waiting for the syncer of an earlier start to let go (its ZooKeeper session ends within ${Math.round(sessionTimeoutMs / 1000)} s)`,
      ...spinner,
    };
  return {
    label: status.lastError
      ? `connecting to ZooKeeper (${status.lastError.message})`
      : 'connecting to ZooKeeper',
    ...spinner,
  };
}

/**
 * One agent per host of the played environment (dev), each under `agents/<host>/` in the state
 * directory; stopped before the syncer. Their files stay for the next start, like the repository.
 */
async function startAgents(
  io: CommandIo,
  state: StateDir,
  stops: (() => Promise<void>)[],
  options: { env: string; hosts: readonly string[]; zk: string; root: string },
): Promise<{ env: string; hosts: readonly PlayedHost[] }> {
  await state.created(STATE_ENTRIES.agents);
  const agents = await startPlayedHosts(io, createLogger(io, 'agent'), {
    hosts: options.hosts,
    dir: state.entry(STATE_ENTRIES.agents),
    zk: options.zk,
    root: options.root,
  });
  stops.push(() => agents.close());
  return { env: options.env, hosts: agents.hosts };
}

/**
 * The SDK's example service, when the repository has the service it is written for in the played
 * environment. It is a demonstration: when it cannot start (a repository whose recommender is not
 * the example's), cairn start says why and goes on without it.
 */
async function startSdkService(
  io: CommandIo,
  state: StateDir,
  stops: (() => Promise<void>)[],
  outline: RepositoryOutline,
  options: { zk: string; root: string },
): Promise<ExampleService | undefined> {
  const env = outline.played?.env;
  if (!env || !outline.services.includes(EXAMPLE_SERVICE)) return undefined;
  const logger = createLogger(io, EXAMPLE_SERVICE);
  await state.created(STATE_ENTRIES.sdkCache);
  try {
    const service = await startExampleService(logger, {
      ...options,
      env,
      cacheDir: state.entry(STATE_ENTRIES.sdkCache),
    });
    stops.push(() => service.close());
    return service;
  } catch (error) {
    logger.warn(
      { code: (error as CairnError).code },
      `the SDK's example service did not start, and cairn start goes on without it: ${(error as Error).message}`,
    );
    return undefined;
  }
}

async function gatherFacts(
  io: CommandIo,
  flags: StartFlags,
  state: StateDir,
  outline: RepositoryOutline,
  known: Pick<
    BannerFacts,
    'zookeeper' | 'root' | 'syncer' | 'head' | 'agents' | 'exampleOnHost' | 'sdkService'
  > & {
    repository: { path: string; origin: RepositoryOrigin };
  },
): Promise<BannerFacts> {
  const path = known.repository.path;
  const history = await readHistory(path, BRANCH);
  const tags = [...history.tags].map(([name, commit]) => ({ name, commit }));
  const tagNames = new Set(history.tags.keys());
  const environments = outline.environments.map((env) => {
    if (!('tag' in env.tracks)) return { name: env.name, tracks: env.tracks };
    const served = newestMatchingTag(env.tracks.tag, tags);
    const next = nextReleaseTag(env.tracks.tag, tagNames);
    return {
      name: env.name,
      tracks: env.tracks,
      ...(served ? { servedTag: served.name } : {}),
      ...(next ? { nextTag: next } : {}),
    };
  });
  const kept = [
    ...(known.repository.origin.kind === 'in-place' ? [] : ['the repository']),
    ...(known.zookeeper.dataDir ? ["ZooKeeper's data"] : []),
    ...(known.agents ? ["the agents' files"] : []),
  ];
  const viaNpm = io.env.npm_lifecycle_event === 'start';
  const again = viaNpm ? 'npm start' : `${cairnCommand(io.cwd)} start`;
  const stateArg = flags.stateDir ? ` --state-dir ${shellQuote(flags.stateDir)}` : '';
  return {
    ...known,
    repository: { ...known.repository, commits: history.commits, lastCommit: history.lastCommit },
    environments,
    ...(outline.example ? { example: outline.example } : {}),
    cairn: cairnCommand(path),
    ...(kept.length > 0 ? { kept: { what: listInWords(kept), where: display(io, state.path) } } : {}),
    restart: viaNpm
      ? { again: `${again}${stateArg ? ` --${stateArg}` : ''}`, fresh: `${again} --${stateArg} --fresh` }
      : { again: `${again}${stateArg}`, fresh: `${again}${stateArg} --fresh` },
  };
}

/** `a`, `a and b`, `a, b and c`. */
function listInWords(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** A path as short as it reads unambiguously: relative to the working directory when inside it. */
function display(io: CommandIo, path: string): string {
  const inside = relative(io.cwd, path);
  return inside && !inside.startsWith('..') && !inside.startsWith('/') ? inside : path;
}
