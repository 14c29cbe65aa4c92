import type { CommandRun } from '../core/index.js';
import { commandLauncher, killGroup } from './command-launcher.js';
import { type HostUser, lookupOwner } from './owner.js';

/** The bytes of a command's output kept for the report: its end, where the reason usually is. */
const OUTPUT_TAIL_BYTES = 4096;
/** After SIGTERM at the timeout, how long a command gets before SIGKILL. */
const KILL_GRACE_MS = 2000;

/** A service's check or reload, or a release's deploy command or health check. */
export type CommandStep = CommandRun['step'] | 'deploy' | 'health';

/** A run of any step: what CommandRun says of a check or reload. */
export type StepRun<S extends CommandStep> = Omit<CommandRun, 'step'> & { readonly step: S };

export interface CommandOptions<S extends CommandStep = CommandStep> {
  readonly step: S;
  readonly command: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly cwd: string;
  /**
   * The user to run it as (the agent must be root): its uid and gid, no supplementary groups, and
   * its HOME, USER and LOGNAME. A name is looked up first; a user already looked up (a swap looks
   * its owner up once, for its files and its commands) is taken as it is. Absent: the agent's own user.
   */
  readonly user?: string | HostUser;
  /** Told of everything the command prints, as it prints it (a deploy streams its log). */
  readonly onOutput?: (chunk: Buffer) => void;
}

/** How an agent runs a step: `runCommand` on a host, `rehearseCommand` where the host is only played. */
export type CommandRunner = <S extends CommandStep>(options: CommandOptions<S>) => Promise<StepRun<S>>;

/**
 * Runs a service's check or reload command, or a release's deploy command or health check, with
 * `sh -c`, in a process group of its own so that a timeout ends everything it started (SIGTERM,
 * then SIGKILL), and keeps the tail of what it printed. The process's command launcher starts it
 * (command-launcher.ts), so that its fork never stalls the agent. Never throws: a command that
 * cannot start is a failed run.
 */
export async function runCommand<S extends CommandStep>(options: CommandOptions<S>): Promise<StepRun<S>> {
  const started = performance.now();
  let user: HostUser | undefined;
  try {
    user = typeof options.user === 'string' ? await lookupOwner(options.user) : options.user;
  } catch (error) {
    // Never run as someone else: a user the host lacks is a command that could not start.
    return {
      step: options.step,
      command: options.command,
      durationMs: Math.round(performance.now() - started),
      outputTail: `not run: ${(error as Error).message}\n`,
      at: new Date().toISOString(),
    };
  }
  return spawnCommand(options, started, user);
}

function spawnCommand<S extends CommandStep>(
  options: CommandOptions<S>,
  started: number,
  user: HostUser | undefined,
): Promise<StepRun<S>> {
  return new Promise((resolve) => {
    let tail = Buffer.alloc(0);
    let timedOut = false;
    let pid: number | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const keep = (chunk: Buffer) => {
      options.onOutput?.(chunk);
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > OUTPUT_TAIL_BYTES) tail = tail.subarray(tail.length - OUTPUT_TAIL_BYTES);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      // A group not started yet is killed once the launcher says it started (onStarted).
      if (pid !== undefined) killGroup(pid, 'SIGTERM');
      killTimer = setTimeout(() => {
        if (pid !== undefined) killGroup(pid, 'SIGKILL');
      }, KILL_GRACE_MS);
      killTimer.unref();
    }, options.timeoutMs);
    commandLauncher.launch(
      {
        command: options.command,
        cwd: options.cwd,
        // Added to the agent's own environment, which the launcher has.
        env: {
          ...(user ? { HOME: user.home, USER: user.name, LOGNAME: user.name } : {}),
          ...options.env,
        },
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      },
      {
        onStarted: (started) => {
          pid = started;
          if (timedOut) killGroup(started, 'SIGTERM');
        },
        onOutput: keep,
        onEnded: (exitCode, signal, failure) => {
          clearTimeout(timer);
          if (failure) keep(Buffer.from(`${failure}\n`));
          resolve({
            step: options.step,
            command: options.command,
            ...(exitCode !== null ? { exitCode } : {}),
            ...(signal !== null ? { signal } : {}),
            ...(timedOut ? { timedOut } : {}),
            durationMs: Math.round(performance.now() - started),
            outputTail: tail.toString('utf8'),
            at: new Date().toISOString(),
          });
        },
      },
    );
  });
}

/** Whether a run succeeded: exit code 0, in time. */
export function succeeded(run: StepRun<CommandStep>): boolean {
  return run.exitCode === 0 && !run.timedOut;
}

/**
 * Runs nothing and succeeds, saying what would have run: for agents that play hosts on a machine
 * that is not one (`cairn start`), where a service's `systemctl reload` or a release's deploy
 * command must not touch the machine itself.
 */
export const rehearseCommand: CommandRunner = async (options) => {
  const said = `not run here (this agent plays the host on another machine): ${options.command}\n`;
  options.onOutput?.(Buffer.from(said));
  return {
    step: options.step,
    command: options.command,
    exitCode: 0,
    durationMs: 0,
    outputTail: said,
    at: new Date().toISOString(),
  };
};
