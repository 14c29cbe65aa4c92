import type { SecretRedactor } from './secret-redactor.js';
import { StatusLine } from './status-line.js';
import type { SystemPackages } from './system-packages.js';

/** Where a command writes; injected so tests run commands in-process and read what they printed. */
export interface CommandIo {
  /** Text, or bytes written as they are (a binary config file, say). */
  readonly stdout: (chunk: string | Uint8Array) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Whether a person watches stderr on a terminal: logs are then written for reading, not as JSON. */
  readonly terminal?: boolean;
  /**
   * Shows a transient line below everything written (progress), replacing the previous one;
   * undefined removes it. Only on a terminal: elsewhere progress is not shown at all.
   */
  readonly status?: (line: string | undefined) => void;
}

export function processIo(): CommandIo {
  if (!process.stderr.isTTY) {
    return {
      stdout: (chunk) => process.stdout.write(chunk),
      stderr: (text) => process.stderr.write(text),
      cwd: process.cwd(),
      env: process.env,
      terminal: false,
    };
  }
  // Writes to a terminal (and to pipes) are synchronous in Node on Linux: nothing interleaves
  // within one write, and the status line is redrawn after it.
  const statusLine = new StatusLine(process.stderr);
  return {
    stdout: (chunk) => statusLine.around(() => process.stdout.write(chunk)),
    stderr: (text) => statusLine.around(() => process.stderr.write(text)),
    cwd: process.cwd(),
    env: process.env,
    terminal: true,
    status: (line) => statusLine.show(line),
  };
}

/**
 * What every command gets besides its arguments: where to write, how to exit, when to stop, and
 * what this machine has installed.
 */
export interface CommandContext {
  readonly io: CommandIo;
  setExitCode(code: number): void;
  /** Resolves when a long-running command should stop (SIGTERM or SIGINT). */
  stopSignal(): Promise<void>;
  /** The Debian packages `cairn start` needs, as this machine has them. */
  readonly systemPackages: SystemPackages;
  /** Where a command registers the secrets it reads (from files, say), so stderr never shows them. */
  readonly secrets: Pick<SecretRedactor, 'add'>;
}

/** Exit statuses shared by every command. */
export const EXIT_OK = 0;
/** The command ran and found problems (e.g. validation errors). */
export const EXIT_FINDINGS = 1;
/** The command could not do its job: bad usage, unreadable input, unreachable service. */
export const EXIT_FAILURE = 2;
