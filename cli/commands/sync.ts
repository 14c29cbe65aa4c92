import { hostname } from 'node:os';
import { type Command, Option } from 'commander';
import type { Logger } from 'pino';
import { Dashboard } from '../../dashboard/index.js';
import {
  DEFAULT_GIT_TIMEOUT_MS,
  DEFAULT_TREE_LIMITS,
  type RawSyncerSettings,
  resolveSyncerConfig,
  SYNCER_ENV,
  type SyncerConfig,
  SyncerDaemon,
  syncOnce,
  withoutCredentials,
} from '../../syncer/index.js';
import { environmentHelp } from '../environment.js';
import { type CommandContext, EXIT_FINDINGS, EXIT_OK } from '../io.js';
import { createLogger } from '../logger.js';
import { escapeControlCharacters } from '../terminal-text.js';
import { formatDiagnostic } from './validate.js';

export function registerSync(
  program: Command,
  { io, setExitCode, stopSignal, secrets }: CommandContext,
): void {
  program
    .command('sync')
    .description('mirror each commit of a branch into ZooKeeper, atomically')
    .addOption(new Option('--repo <url>', `git repository: https URL or local path`).env(SYNCER_ENV.repo))
    .addOption(new Option('--branch <name>', `branch to mirror (default main)`).env(SYNCER_ENV.branch))
    .addOption(new Option('--zk <hosts>', `ZooKeeper ensemble, host:port,...`).env(SYNCER_ENV.zk))
    .addOption(new Option('--root <path>', `root znode (default /cairn)`).env(SYNCER_ENV.root))
    .addOption(
      new Option('--zk-auth-file <file>', 'ZooKeeper credentials, one user:password a line').env(
        SYNCER_ENV.zkAuthFile,
      ),
    )
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
      new Option(
        '--git-credentials-file <path>',
        `credentials of an https repository: lines like https://user:token@host, as git credential-store writes them`,
      ).env(SYNCER_ENV.gitCredentialsFile),
    )
    .addOption(
      new Option(
        '--git-timeout <duration>',
        `how long a fetch waits for the git server's answer, or its next bytes: a deadline on silence, not on a clone's size (default ${DEFAULT_GIT_TIMEOUT_MS / 1000}s)`,
      ).env(SYNCER_ENV.gitTimeout),
    )
    .addOption(
      new Option('--webhook-secret-file <path>', `a file holding the secret of GitHub push webhooks`).env(
        SYNCER_ENV.webhookSecretFile,
      ),
    )
    .addOption(
      new Option(
        '--webhook-secret <secret>',
        `secret of GitHub push webhooks (shown by ps: prefer --webhook-secret-file)`,
      ).env(SYNCER_ENV.webhookSecret),
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
      new Option(
        '--max-files <n>',
        `refuse a commit of more files than this, before reading them (default ${DEFAULT_TREE_LIMITS.maxFiles})`,
      ).env(SYNCER_ENV.maxFiles),
    )
    .addOption(
      new Option(
        '--max-path-depth <n>',
        `refuse a commit nesting folders deeper than this, before reading it (default ${DEFAULT_TREE_LIMITS.maxPathDepth})`,
      ).env(SYNCER_ENV.maxPathDepth),
    )
    .addOption(
      new Option('--replica-id <id>', `name of this replica in the election (default host:pid)`).env(
        SYNCER_ENV.replicaId,
      ),
    )
    .addHelpText('after', environmentHelp('Environment variables without a flag:', [SYNCER_ENV.gitToken]))
    .addHelpText(
      'after',
      '\nFlags win over environment variables, which win over defaults.\nExit status of --once: 0 mirrored or up to date, 1 the head commit was refused, 2 it could not run.',
    )
    .action(async (flags: RawSyncerSettings, command: Command) => {
      // Read before anything can fail, so that no message shows them.
      secrets.add(
        flags.repo && withoutCredentials(flags.repo) !== flags.repo ? passwordOf(flags.repo) : undefined,
      );
      secrets.add(flags.webhookSecret);
      const config = resolveSyncerConfig(flags, io.env, { hostname: hostname(), pid: process.pid });
      secrets.add(config.webhookSecret);
      secrets.add(config.gitCredentials?.password);
      // ZooKeeper credentials, also when they came from --zk-auth-file.
      for (const { credentials } of config.endpoint.auth ?? []) {
        secrets.add(credentials);
        secrets.add(credentials.slice(credentials.indexOf(':') + 1));
      }
      const logger = createLogger(io, 'syncer');
      warnOfSecretsInArguments(command, config, logger);
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

/**
 * Arguments are visible to every user of the machine (`ps`, /proc/<pid>/cmdline): a secret given as
 * one works, but is said to be exposed, with where to put it instead.
 */
function warnOfSecretsInArguments(command: Command, config: SyncerConfig, logger: Logger): void {
  const repo = command.getOptionValue('repo') as string | undefined;
  // A user name alone is no secret when the token comes from elsewhere (https://oauth2@…).
  const secretInRepo =
    repo !== undefined && withoutCredentials(repo) !== repo && (hasPassword(repo) || !config.gitCredentials);
  if (command.getOptionValueSource('repo') === 'cli' && secretInRepo)
    logger.warn(
      'the credentials in --repo are visible to every user of this machine (ps): put them in --git-credentials-file, or the token in CAIRN_GIT_TOKEN, and leave them out of the URL',
    );
  if (command.getOptionValueSource('webhookSecret') === 'cli')
    logger.warn(
      '--webhook-secret is visible to every user of this machine (ps): put the secret in a file and pass --webhook-secret-file',
    );
}

function hasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}

/** The password (or lone token) of a URL's `user:password@`. */
function passwordOf(url: string): string | undefined {
  try {
    const { username, password } = new URL(url);
    return decodeURIComponent(password || username);
  } catch {
    return undefined;
  }
}
