import { Command, CommanderError } from 'commander';
import { CairnError, ZOOKEEPER_ENV } from '../core/index.js';
import { onShutdownSignal } from '../local/index.js';
import { registerAcl } from './commands/acl.js';
import { registerAgent } from './commands/agent.js';
import { registerBot } from './commands/bot.js';
import { registerDeploy } from './commands/deploy.js';
import { registerGet } from './commands/get.js';
import { registerHistory } from './commands/history.js';
import { registerRollback } from './commands/rollback.js';
import { registerSchemas } from './commands/schemas.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerSync } from './commands/sync.js';
import { registerValidate } from './commands/validate.js';
import { EVERY_COMMAND, environmentHelp, SECRET_VARIABLES } from './environment.js';
import { type CommandContext, type CommandIo, EXIT_FAILURE, EXIT_OK } from './io.js';
import { SecretRedactor } from './secret-redactor.js';
import { debianSystemPackages, type SystemPackages } from './system-packages.js';
import { VERSION } from './version.js';

/** What tests put in place of the machine's own. */
export interface RunOptions {
  /** Resolves when a long-running command should stop; default: a shutdown signal. */
  readonly stopSignal?: () => Promise<void>;
  /** The system packages as this machine has them; default: asked of scripts/install-system-deps.sh. */
  readonly systemPackages?: SystemPackages;
}

/**
 * Runs the `cairn` command line with the given arguments (without `node` and the script) and returns
 * the exit status. Never throws: every failure becomes a one-line message on stderr.
 */
export async function runCli(
  args: readonly string[],
  givenIo: CommandIo,
  options: RunOptions = {},
): Promise<number> {
  const secrets = secretsOf(givenIo.env);
  // Every log line and error message goes through here: one place masks every secret.
  const io: CommandIo = { ...givenIo, stderr: (text) => givenIo.stderr(secrets.redact(text)) };
  let exitCode = EXIT_OK;
  const program = new Command('cairn')
    .description('Configuration and releases from a git repository, mirrored atomically into ZooKeeper.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run cairn --help for usage)')
    .addHelpText(
      'after',
      environmentHelp(
        'Environment variables (every command; each command’s --help shows its own):',
        EVERY_COMMAND,
      ),
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const context: CommandContext = {
    io,
    setExitCode: (code) => {
      exitCode = code;
    },
    stopSignal: options.stopSignal ?? untilTerminated,
    systemPackages: options.systemPackages ?? debianSystemPackages(),
    secrets,
  };
  registerAcl(program, context);
  registerAgent(program, context);
  registerBot(program, context);
  registerDeploy(program, context);
  registerGet(program, context);
  registerHistory(program, context);
  registerRollback(program, context);
  registerSchemas(program, context);
  registerStart(program, context);
  registerStatus(program, context);
  registerValidate(program, context);
  registerSync(program, context);

  try {
    await program.parseAsync([...args], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are "errors" to commander with exit code 0; usage mistakes were already printed.
      return error.exitCode === 0 ? EXIT_OK : EXIT_FAILURE;
    }
    if (error instanceof CairnError) {
      io.stderr(`cairn: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    io.stderr(`cairn: unexpected failure: ${(error as Error)?.message ?? String(error)}\n`);
    if (io.env.CAIRN_DEBUG) io.stderr(`${(error as Error)?.stack ?? ''}\n`);
    else io.stderr('cairn: set CAIRN_DEBUG=1 to see where it happened, and please report it\n');
    return EXIT_FAILURE;
  }
}

/** A redactor that knows the secrets of the environment; commands add those they read from files. */
function secretsOf(env: NodeJS.ProcessEnv): SecretRedactor {
  const secrets = new SecretRedactor();
  for (const name of SECRET_VARIABLES) secrets.add(env[name]);
  // Digest credentials `user:password[,user:password]`: each password, and each pair.
  for (const pair of env[ZOOKEEPER_ENV.auth]?.split(',') ?? []) {
    secrets.add(pair);
    secrets.add(pair.slice(pair.indexOf(':') + 1));
  }
  return secrets;
}

/**
 * Daemons run until SIGTERM, SIGINT or SIGHUP, then shut down gracefully, children (a local
 * ZooKeeper) last; a second Ctrl-C ends the process at once, children included.
 */
function untilTerminated(): Promise<void> {
  return new Promise((resolve) => {
    onShutdownSignal(() => resolve());
  });
}
