import { CommandLauncher, type LaunchRequest } from '../agent/command-launcher.js';
import { waitFor } from '../test/harness/index.js';

/** When a burst's commands were handed over, and when the last one ended (machine clock). */
export interface LaunchBurst {
  readonly handed: number;
  readonly lastEnded: number;
}

/** Command launchers with no agent behind them: what the agent bench's floor is measured from. */
export interface LaunchFloor {
  /**
   * Hands every command to the launchers at once (as a commit hands its reloads to the agents'
   * launchers) and resolves when every one has ended; rejects when one failed.
   */
  burst(commands: readonly Omit<LaunchRequest, 'id'>[]): Promise<LaunchBurst>;
}

/**
 * A CommandLauncher of its own (agent/command-launcher.ts), the same small processes the agents
 * launch their commands from, up to four during a burst, with no agent behind them: the machine's
 * floor under a commit's reloads, which are as many process launches. (One launcher alone forks one
 * command after the other: on this 2-core machine that was slower than the 100 agents themselves.)
 * Resolves once its first launcher takes requests; the launchers end with the bench's process.
 */
export async function startLaunchFloor(now: () => number): Promise<LaunchFloor> {
  const launcher = new CommandLauncher();
  launcher.prepare();
  await waitFor(() => launcher.readyCount > 0, {
    description: 'the floor’s command launcher running',
    timeoutMs: 60_000,
  });
  return {
    burst: (commands) =>
      new Promise((resolve, reject) => {
        const handed = now();
        let running = commands.length;
        for (const command of commands)
          launcher.launch(command, {
            onStarted: () => undefined,
            onOutput: () => undefined,
            onEnded: (exitCode, signal, failure) => {
              if (exitCode !== 0)
                reject(new Error(`a floor command failed (${failure ?? signal ?? exitCode})`));
              else if (--running === 0) resolve({ handed, lastEnded: now() });
            },
          });
      }),
  };
}
