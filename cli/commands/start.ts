import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { importDirectoryAsRepo, startZooKeeper, waitFor, type ZooKeeperServer } from '../../local/index.js';
import { validateRepoDir } from '../../schemas/index.js';
import { resolveSyncerConfig, SyncerDaemon } from '../../syncer/index.js';
import { type CommandContext, EXIT_OK } from '../io.js';
import { createLogger } from '../logger.js';
import { packageRoot } from '../package-root.js';
import { ensureSystemPackages } from '../system-packages.js';

const EXAMPLE_REPO = join(packageRoot(), 'example-config-repo');

interface StartFlags {
  readonly repo?: string;
  readonly zk?: string;
  readonly listen?: string;
  readonly root?: string;
}

/**
 * `cairn start`: everything on this machine, to see Cairn work. A local ZooKeeper (unless --zk names
 * one), a git repository (a copy of a plain directory, example-config-repo/ by default), and a
 * syncer mirroring it every 2 s and on webhooks, until Ctrl-C.
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
      'a config repository, or a plain directory to copy into a new one (default: example-config-repo)',
    )
    .option('--zk <hosts>', 'use this ZooKeeper instead of starting one')
    .option('--root <path>', 'root znode', '/cairn')
    .option('--listen <addr:port>', 'where the syncer serves /healthz, /metrics and /webhook', '127.0.0.1:0')
    .action(async (flags: StartFlags) => {
      await ensureSystemPackages(io, systemPackages);
      const logger = createLogger(io, 'syncer');
      const source = resolve(io.cwd, flags.repo ?? (existsSync(EXAMPLE_REPO) ? EXAMPLE_REPO : '.'));
      const cleanups: (() => Promise<void>)[] = [];
      try {
        let repo = source;
        let note = 'read in place; commit there to publish';
        if (!existsSync(join(source, '.git'))) {
          const imported = await importDirectoryAsRepo(source);
          repo = imported.repo;
          note = `a git copy of ${source}; edit and commit there to publish`;
          cleanups.push(() => rm(imported.repo, { recursive: true, force: true }));
        }
        let zk: ZooKeeperServer | undefined;
        if (!flags.zk) {
          zk = await startZooKeeper({ tickTime: 2000 });
          const server = zk;
          cleanups.push(() => server.close());
        }
        const connectString = flags.zk ?? (zk as ZooKeeperServer).connectString;
        const secret = randomBytes(16).toString('hex');
        const config = resolveSyncerConfig(
          {
            repo,
            zk: connectString,
            root: flags.root,
            listen: flags.listen,
            webhookSecret: secret,
            poll: '2s',
          },
          io.env,
          { hostname: hostname(), pid: process.pid },
        );
        const daemon = new SyncerDaemon(config, logger);
        cleanups.unshift(() => daemon.close());
        const { port } = await daemon.start();
        await waitFor(() => daemon.status().mirrored ?? daemon.status().refused, {
          description: 'the first sync',
          timeoutMs: 120_000,
        });
        const status = daemon.status();
        const base = `http://${config.listen?.host === '0.0.0.0' ? '127.0.0.1' : config.listen?.host}:${port}`;
        io.stdout(
          [
            'cairn is running',
            `  zookeeper   ${connectString}${zk ? ` (local, data in ${zk.dataDir})` : ''}`,
            `  repository  ${repo} (${note})`,
            `  syncer      ${base}/healthz  ${base}/metrics  POST ${base}/webhook (secret ${secret})`,
            ...(await describeEnvironments(repo)),
            status.mirrored
              ? `mirrored ${status.mirrored} into ${config.root}`
              : `refused ${status.refused?.commit}: ${status.refused?.reason}`,
            'press Ctrl-C to stop',
            '',
          ].join('\n'),
        );
        await stopSignal();
        setExitCode(EXIT_OK);
      } finally {
        for (const cleanup of cleanups) await cleanup();
      }
    });
}

/** One line per environment: what it follows, and how to release to one that follows tags. */
async function describeEnvironments(repo: string): Promise<string[]> {
  const { repo: model } = await validateRepoDir(repo);
  return [...model.environments.values()].map((env) =>
    'tag' in env.tracks
      ? `  ${env.name.padEnd(11)} follows tags ${env.tracks.tag}: release with \`git -C ${repo} tag <version>\``
      : `  ${env.name.padEnd(11)} follows ${env.tracks.branch}`,
  );
}
