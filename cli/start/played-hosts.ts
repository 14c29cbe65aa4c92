import { join } from 'node:path';
import type { Logger } from 'pino';
import { AgentDaemon, rehearseCommand, resolveAgentConfig } from '../../agent/index.js';
import type { CommandIo } from '../io.js';

/** A host of the played environment, and the folder its agent writes the services' files under. */
export interface PlayedHost {
  readonly host: string;
  readonly prefix: string;
}

export interface PlayedHosts {
  readonly hosts: readonly PlayedHost[];
  close(): Promise<void>;
}

/**
 * One agent per host, each under its own prefix in `dir` (`<dir>/<host>/etc/recommender/…`), in this
 * process, so their logs go through cairn start's own logger. They rehearse the services' commands
 * instead of running them: a `systemctl reload nginx` written for the real hosts must not reach the
 * machine that only plays them.
 */
export async function startPlayedHosts(
  io: CommandIo,
  logger: Logger,
  options: {
    readonly hosts: readonly string[];
    readonly dir: string;
    readonly zk: string;
    readonly root: string;
  },
): Promise<PlayedHosts> {
  const daemons: AgentDaemon[] = [];
  const played: PlayedHost[] = [];
  const close = async () => {
    await Promise.all(daemons.map((daemon) => daemon.close()));
  };
  try {
    for (const host of options.hosts) {
      const prefix = join(options.dir, host);
      const config = resolveAgentConfig(
        {
          zk: options.zk,
          root: options.root,
          host,
          prefix,
          // Named here, so that a CAIRN_AGENT_STATE_DIR in the environment cannot make them share one.
          stateDir: join(prefix, 'var/lib/cairn-agent'),
        },
        io.env,
        io.cwd,
      );
      const daemon = new AgentDaemon(config, logger, { runCommand: rehearseCommand });
      daemons.push(daemon);
      await daemon.start();
      played.push({ host, prefix });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { hosts: played, close };
}
