import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/**
 * Runs the command line compiled from the sources of this run (test/global-setup.ts), so tests
 * never exercise a stale build; named by its path, so the command runs from any working directory.
 */
const cairn = (): string[] => [inject('cairnCli')];

export interface CairnRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `cairn …` to completion in its own process. */
export function runCairn(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CairnRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...cairn(), ...args],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, CAIRN_LOG_LEVEL: 'warn', ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** `cairn …` run with a deadline: whether it ended by itself, and how long it took. */
export interface TimedCairnRun extends CairnRun {
  readonly killed: boolean;
  readonly ms: number;
}

/** Runs `cairn …` and kills it if it has not ended after `killAfterMs`. */
export function runCairnWithin(
  killAfterMs: number,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  options: { cwd?: string } = {},
): Promise<TimedCairnRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...cairn(), ...args],
      {
        cwd: options.cwd ?? PROJECT_ROOT,
        env: { ...process.env, CAIRN_LOG_LEVEL: 'warn', ...env },
        maxBuffer: 64 * 1024 * 1024,
        timeout: killAfterMs,
        killSignal: 'SIGKILL',
      },
      (error, stdout, stderr) => {
        const killed = error?.killed ?? false;
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, killed, ms: Date.now() - started });
      },
    );
  });
}

/** Starts `cairn …` as a long-running process (a daemon), for tests that kill it. */
export function spawnCairn(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  options: { cwd?: string } = {},
): ChildProcess {
  return spawn(process.execPath, [...cairn(), ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { ...process.env, CAIRN_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
