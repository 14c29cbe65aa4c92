import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import { Dashboard } from '../../dashboard/index.js';
import {
  type RawSyncerSettings,
  resolveSyncerConfig,
  SYNCER_ENV,
  SyncerDaemon,
  syncOnce,
} from '../../syncer/index.js';
import { type CommandContext, EXIT_FINDINGS, EXIT_OK } from '../io.js';
import { createLogger } from '../logger.js';
import { escapeControlCharacters } from '../terminal-text.js';
import { formatDiagnostic } from './validate.js';

export function registerSync(program: Command, { io, setExitCode, stopSignal }: CommandContext): void {
  program
    .command('sync')
    .description('mirror each commit of a branch into ZooKeeper, atomically')
    .addOption(new Option('--repo <url>', `git repository: https URL or local path`).env(SYNCER_ENV.repo))
    .addOption(new Option('--branch <name>', `branch to mirror (default main)`).env(SYNCER_ENV.branch))
    .addOption(new Option('--zk <hosts>', `ZooKeeper ensemble, host:port,...`).env(SYNCER_ENV.zk))
    .addOption(new Option('--root <path>', `root znode (default /cairn)`).env(SYNCER_ENV.root))
    .option('--once', 'mirror the branch head once and exit')
    .option('--watch', 'run as a daemon (the default): webhooks, polling, leader election')
    .addOption(
      new Option('--poll <interval>', `how often to fetch without a webhook, e.g. 30s (default 30s)`).env(
        SYNCER_ENV.poll,
      ),
    )
    .addOption(
      new Option(
        '--listen <addr:port>',
        `serve POST /webhook, GET /healthz, GET /metrics and the dashboard at GET /`,
      ).env(SYNCER_ENV.listen),
    )
    .addOption(
      new Option('--webhook-secret <secret>', `secret of GitHub push webhooks`).env(SYNCER_ENV.webhookSecret),
    )
    .addOption(
      new Option('--cache-dir <dir>', `where the git clone is kept between runs`).env(SYNCER_ENV.cacheDir),
    )
    .addOption(
      new Option(
        '--session-timeout <duration>',
        `ZooKeeper session timeout; a standby takes over within it (default 10s)`,
      ).env(SYNCER_ENV.sessionTimeout),
    )
    .addOption(
      new Option(
        '--notes-ref <ref>',
        `where the bot records approvals (default refs/notes/cairn-approvals)`,
      ).env(SYNCER_ENV.notesRef),
    )
    .addOption(
      new Option('--replica-id <id>', `name of this replica in the election (default host:pid)`).env(
        SYNCER_ENV.replicaId,
      ),
    )
    .addHelpText(
      'after',
      '\nFlags win over environment variables, which win over defaults.\nExit status of --once: 0 mirrored or up to date, 1 the head commit was refused, 2 it could not run.',
    )
    .action(async (flags: RawSyncerSettings) => {
      const config = resolveSyncerConfig(flags, io.env, { hostname: hostname(), pid: process.pid });
      const logger = createLogger(io, 'syncer');
      if (config.mode === 'once') {
        const outcome = await syncOnce(config, logger);
        if (outcome.kind === 'refused') {
          io.stderr(`cairn: ${escapeControlCharacters(outcome.error.message)}\n`);
          for (const d of outcome.error.diagnostics) io.stderr(`${formatDiagnostic(d.file, d)}\n`);
          setExitCode(EXIT_FINDINGS);
          return;
        }
        io.stdout(
          outcome.kind === 'mirrored'
            ? `mirrored ${outcome.commit} (${outcome.operations} znode operations in ${outcome.transactions} transaction(s))\n`
            : `up to date at ${outcome.commit}\n`,
        );
        setExitCode(EXIT_OK);
        return;
      }
      // With --listen, the same address serves the read-only dashboard, on a session of its own.
      const dashboard = config.listen ? new Dashboard({ endpoint: config.endpoint, logger }) : undefined;
      const daemon = new SyncerDaemon(config, logger, dashboard);
      try {
        dashboard?.start();
        await daemon.start();
      } catch (error) {
        await daemon.close();
        throw error;
      }
      await stopSignal();
      logger.info('stopping: finishing the sync in progress');
      await daemon.close();
      setExitCode(EXIT_OK);
    });
}
