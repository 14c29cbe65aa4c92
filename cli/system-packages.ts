import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { CairnError } from '../core/index.js';
import type { CommandIo } from './io.js';
import { packageRoot } from './package-root.js';
import { Progress } from './progress.js';

/**
 * The Debian packages `cairn start` runs on (ZooKeeper, Java, git), as this machine has them.
 * `scripts/install-system-deps.sh` is the one list of them and the one way to install them; this
 * is injected so tests can decide on a machine that lacks them without uninstalling anything.
 */
export interface SystemPackages {
  /** The packages this machine lacks. */
  missing(): Promise<string[]>;
  /** Whether this process may install packages itself: it runs as root. */
  readonly canInstall: boolean;
  /** Installs what is missing, reporting apt's progress as it goes. */
  install(onStatus: (status: AptStatus) => void): Promise<void>;
}

/** One of apt's progress lines (APT::Status-Fd): downloading, then installing, in percent. */
export interface AptStatus {
  readonly stage: 'downloading' | 'installing';
  readonly percent: number;
  readonly what: string;
}

/** Packages are missing and this process cannot install them: the message has the command to run. */
export class SystemPackagesMissingError extends CairnError {
  readonly packages: readonly string[];

  constructor(packages: readonly string[], message: string) {
    super('SYSTEM_PACKAGES_MISSING', message);
    this.packages = packages;
  }
}

/** The line a person copies to install `packages`, exactly. */
export function installCommand(packages: readonly string[]): string {
  return `sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}`;
}

/**
 * Makes sure the packages are there: nothing to do, or installed now (as root, with progress on a
 * terminal), or a SystemPackagesMissingError (exit status 2) that gives the exact command to run.
 */
export async function ensureSystemPackages(
  io: CommandIo,
  system: SystemPackages,
  log: Logger,
): Promise<void> {
  const missing = await system.missing();
  if (missing.length === 0) return;
  if (!system.canInstall) {
    throw new SystemPackagesMissingError(
      missing,
      `missing system packages: ${missing.join(', ')}. Install them with\n\n  ${installCommand(missing)}\n\nthen run this again (or run it as root, and it installs them itself).`,
    );
  }
  log.info(
    { packages: missing.join(' ') },
    'installing the missing Debian packages; this takes a minute or two',
  );
  const progress = new Progress(io, `installing ${missing.join(', ')}`, '%');
  try {
    await system.install((status) =>
      progress.update({ label: `${status.stage}: ${status.what}`, done: status.percent, total: 100 }),
    );
  } finally {
    progress.end();
  }
  const still = await system.missing();
  if (still.length > 0) {
    throw new SystemPackagesMissingError(
      still,
      `still missing after installing: ${still.join(', ')}. Try it by hand:\n\n  ${installCommand(still)}\n`,
    );
  }
  log.info({ packages: missing.join(' ') }, 'installed the missing Debian packages');
}

/** Parses one APT::Status-Fd line: `dlstatus:<n>:<percent>:<what>` or `pmstatus:<package>:<percent>:<what>`. */
export function parseAptStatus(line: string): AptStatus | undefined {
  const match = /^(dlstatus|pmstatus):[^:]*:([\d.]+):(.*)$/.exec(line);
  if (!match) return undefined;
  return {
    stage: match[1] === 'dlstatus' ? 'downloading' : 'installing',
    percent: Math.round(Number(match[2])),
    what: match[3] ?? '',
  };
}

/** This machine's packages, through `scripts/install-system-deps.sh`. */
export function debianSystemPackages(): SystemPackages {
  const script = join(packageRoot(), 'scripts', 'install-system-deps.sh');
  return {
    canInstall: process.getuid?.() === 0,
    async missing() {
      const { stdout } = await runScript(script, ['--missing']);
      return stdout.split('\n').filter((line) => line !== '');
    },
    async install(onStatus) {
      await runScript(script, ['--status-fd', '3'], (line) => {
        const status = parseAptStatus(line);
        if (status) onStatus(status);
      });
    },
  };
}

class SystemPackagesInstallError extends CairnError {
  constructor(message: string) {
    super('SYSTEM_PACKAGES_INSTALL_FAILED', message);
  }
}

/** Runs the script with bash; apt's status lines arrive on descriptor 3. Rejects with its stderr. */
function runScript(
  script: string,
  args: readonly string[],
  onStatusLine?: (line: string) => void,
): Promise<{ stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const status = child.stdio[3] as Readable | null;
    if (status) createInterface({ input: status }).on('line', (line) => onStatusLine?.(line));
    child.once('error', (error) =>
      reject(new SystemPackagesInstallError(`cannot run ${script}: ${error.message}`)),
    );
    child.once('close', (code) => {
      if (code === 0) resolve({ stdout });
      else
        reject(
          new SystemPackagesInstallError(
            `${script} ${args.join(' ')} failed (exit status ${code}):\n${stderr.trim().split('\n').slice(-15).join('\n')}`,
          ),
        );
    });
  });
}
