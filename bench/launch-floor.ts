import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { CommandLauncher } from '../agent/command-launcher.js';
import { killOnExit } from '../local/index.js';
import { waitFor } from '../test/harness/index.js';

/** When a burst's commands were handed over, and when the last one ended (machine clock). */
export interface LaunchBurst {
  readonly handed: number;
  readonly lastEnded: number;
}

/**
 * One way of launching a commit's reloads with no agent behind it: the same command (`sh -c`) in
 * each of the hosts' folders, `CAIRN_COMMIT` set to what `burst` is given. What the agent bench's
 * floors are measured from.
 */
export interface LaunchFloor {
  /** Hands every command over at once and resolves when every one has ended; rejects when one failed. */
  burst(commit: string): Promise<LaunchBurst>;
  close(): Promise<void>;
}

/** The floors the agent bench measures after each commit, cheapest machinery last. */
export interface LaunchFloors {
  readonly launchers: LaunchFloor;
  readonly node: LaunchFloor;
  readonly shell: LaunchFloor;
}

/** Starts each way of launching `command` in `cwds`; resolves once every one takes bursts. */
export async function startLaunchFloors(
  command: string,
  cwds: readonly string[],
  now: () => number,
): Promise<LaunchFloors> {
  return {
    launchers: await startLauncherFloor(command, cwds, now),
    node: startNodeFloor(command, cwds, now),
    shell: startShellFloor(command, cwds, now),
  };
}

/**
 * A CommandLauncher of its own (agent/command-launcher.ts), the same small processes the agents
 * launch their commands from, up to four during a burst, with no agent behind them: what the
 * agents' way of launching costs. (One launcher alone forks one command after the other: on this
 * 2-core machine that was slower than the 100 agents themselves.) Resolves once its first launcher
 * takes requests; the launchers end with the bench's process.
 */
async function startLauncherFloor(
  command: string,
  cwds: readonly string[],
  now: () => number,
): Promise<LaunchFloor> {
  const launcher = new CommandLauncher();
  launcher.prepare();
  await waitFor(() => launcher.readyCount > 0, {
    description: 'the floor’s command launcher running',
    timeoutMs: 60_000,
  });
  return {
    burst: (commit) =>
      new Promise((resolve, reject) => {
        const handed = now();
        let running = cwds.length;
        for (const cwd of cwds)
          launcher.launch(
            { command, cwd, env: { CAIRN_COMMIT: commit } },
            {
              onStarted: () => undefined,
              onOutput: () => undefined,
              onEnded: (exitCode, signal, failure) => {
                if (exitCode !== 0)
                  reject(new Error(`a floor command failed (${failure ?? signal ?? exitCode})`));
                else if (--running === 0) resolve({ handed, lastEnded: now() });
              },
            },
          );
      }),
    close: async () => undefined,
  };
}

/**
 * A bare Node process, no launcher protocol: told a burst's commit on its stdin, it spawns every
 * command itself with the launcher's options (`sh -c`, a process group each, stdout and stderr
 * piped) and prints 0 once all ended (1 when one failed). What a Node process's own launches cost.
 */
const NODE_LAUNCHES = `
const { spawn } = require('node:child_process');
const { createInterface } = require('node:readline');
const [command, ...cwds] = JSON.parse(process.argv[1]);
createInterface({ input: process.stdin }).on('line', (commit) => {
  let running = cwds.length;
  let failed = false;
  for (const cwd of cwds) {
    const child = spawn('sh', ['-c', command], {
      cwd,
      env: { ...process.env, CAIRN_COMMIT: commit },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.resume();
    child.stderr.resume();
    child.once('close', (code) => {
      failed ||= code !== 0;
      if (--running === 0) process.stdout.write(failed ? '1\\n' : '0\\n');
    });
  }
});
`;

function startNodeFloor(command: string, cwds: readonly string[], now: () => number): LaunchFloor {
  return lineFloor(
    spawn(process.execPath, ['-e', NODE_LAUNCHES, JSON.stringify([command, ...cwds])], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
    'a bare Node process',
    now,
  );
}

/**
 * A shell, no Node at all: told a burst's commit on its stdin, it runs `xargs -P 4` (as many at once
 * as the agents' launchers), which starts one `sh` per folder that enters it and runs the command:
 * what the machine itself takes for the launches. Prints xargs's exit status once all ended.
 */
const SHELL_LAUNCHES = `
while IFS= read -r commit; do
  printf '%s\\0' "$@" | CAIRN_COMMIT="$commit" xargs -0 -P 4 -I{} sh -c 'cd "$1" && eval "$FLOOR_COMMAND"' sh {}
  echo "$?"
done
`;

function startShellFloor(command: string, cwds: readonly string[], now: () => number): LaunchFloor {
  return lineFloor(
    spawn('sh', ['-c', SHELL_LAUNCHES, 'sh', ...cwds], {
      env: { ...process.env, FLOOR_COMMAND: command },
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
    'a shell',
    now,
  );
}

/** A process told each burst's commit as a line on its stdin, answering with a status line, 0 for success. */
function lineFloor(child: ReturnType<typeof spawn>, who: string, now: () => number): LaunchFloor {
  killOnExit(child);
  const answers: ((status: string) => void)[] = [];
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (status) =>
    answers.shift()?.(status),
  );
  // A floor that dies fails the bursts it was given, instead of a write to its closed stdin
  // ending the bench with EPIPE or a burst waiting for ever.
  let exited: string | undefined;
  child.stdin?.on('error', () => undefined);
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
    for (const answer of answers.splice(0)) answer(exited);
  });
  return {
    burst: (commit) =>
      new Promise((resolve, reject) => {
        if (exited !== undefined) {
          reject(new Error(`the floor launching from ${who} ${exited}`));
          return;
        }
        const handed = now();
        answers.push((status) =>
          status === '0'
            ? resolve({ handed, lastEnded: now() })
            : reject(new Error(`a floor command launched from ${who} failed (${status})`)),
        );
        child.stdin?.write(`${commit}\n`);
      }),
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exit = once(child, 'exit');
      child.stdin?.end();
      await exit;
    },
  };
}
