import { type Command, Option } from 'commander';
import { AGENT_ENV, AgentDaemon, type RawAgentSettings, resolveAgentConfig } from '../../agent/index.js';
import { type CommandContext, EXIT_OK } from '../io.js';
import { createLogger } from '../logger.js';

/** `cairn agent`: keeps this host's configuration files equal to what ZooKeeper serves, until stopped. */
export function registerAgent(program: Command, { io, setExitCode, stopSignal }: CommandContext): void {
  program
    .command('agent')
    .description('keep the configuration files of the services this host runs, check and reload them')
    .addOption(new Option('--zk <hosts>', `ZooKeeper ensemble, host:port,...`).env(AGENT_ENV.zk))
    .addOption(new Option('--root <path>', `root znode (default /cairn)`).env(AGENT_ENV.root))
    .addOption(
      new Option('--zk-auth-file <file>', 'ZooKeeper credentials, one user:password a line').env(
        AGENT_ENV.zkAuthFile,
      ),
    )
    .addOption(
      new Option('--host <name>', `this host's name in the service tree (default: the machine's)`).env(
        AGENT_ENV.host,
      ),
    )
    .addOption(
      new Option(
        '--prefix <dir>',
        `place every service directory under this folder, to run agents side by side on one machine; files keep the agent's owner`,
      ).env(AGENT_ENV.prefix),
    )
    .addOption(
      new Option(
        '--state-dir <dir>',
        `where the agent keeps copies of what it wrote (default /var/lib/cairn-agent, under the prefix if any)`,
      ).env(AGENT_ENV.stateDir),
    )
    .addOption(
      new Option(
        '--drift-interval <duration>',
        `how often managed files are compared with what was written (default 60s)`,
      ).env(AGENT_ENV.driftInterval),
    )
    .addOption(
      new Option(
        '--drift <mode>',
        `repair drifted files and reload, or only report them: repair or report (default repair)`,
      ).env(AGENT_ENV.drift),
    )
    .addOption(
      new Option(
        '--command-timeout <duration>',
        `deadline of each check and reload command (default 30s)`,
      ).env(AGENT_ENV.commandTimeout),
    )
    .addOption(
      new Option('--session-timeout <duration>', `ZooKeeper session timeout (default 10s)`).env(
        AGENT_ENV.sessionTimeout,
      ),
    )
    .addHelpText(
      'after',
      '\nFlags win over environment variables, which win over defaults. Runs until SIGTERM or SIGINT.',
    )
    .action(async (flags: RawAgentSettings) => {
      const config = resolveAgentConfig(flags, io.env, io.cwd);
      const logger = createLogger(io, 'cairn-agent');
      const daemon = new AgentDaemon(config, logger);
      try {
        await daemon.start();
        await stopSignal();
        logger.info('stopping: finishing the swap in progress');
      } finally {
        await daemon.close();
      }
      setExitCode(EXIT_OK);
    });
}
