import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { CommandIo } from './io.js';
import { createLogger } from './logger.js';
import { runCli } from './program.js';
import {
  type AptStatus,
  ensureSystemPackages,
  installCommand,
  parseAptStatus,
  type SystemPackages,
} from './system-packages.js';

const SCRIPT = fileURLToPath(new URL('../scripts/install-system-deps.sh', import.meta.url));

/** A machine that lacks `lacking` until `install` runs, as root or not. */
function machine(lacking: string[], root: boolean, statuses: AptStatus[] = []) {
  let missing = [...lacking];
  const calls = { install: 0 };
  const system: SystemPackages = {
    canInstall: root,
    missing: async () => [...missing],
    install: async (onStatus) => {
      calls.install++;
      for (const status of statuses) onStatus(status);
      missing = [];
    },
  };
  return { system, calls };
}

function captureIo(terminal = false) {
  const out = { stdout: '', stderr: '', status: [] as (string | undefined)[] };
  const io: CommandIo = {
    stdout: (chunk) => {
      out.stdout += String(chunk);
    },
    stderr: (text) => {
      out.stderr += text;
    },
    cwd: process.cwd(),
    env: { NO_COLOR: '1' },
    terminal,
    ...(terminal ? { status: (line: string | undefined) => out.status.push(line) } : {}),
  };
  return { io, out };
}

describe('the system packages cairn start needs', () => {
  it('does nothing when the machine has them', async () => {
    const { system, calls } = machine([], false);
    const { io, out } = captureIo();
    await ensureSystemPackages(io, system, createLogger(io, 'start'));
    expect(calls.install).toBe(0);
    expect(out.stderr).toBe('');
  });

  it('prints the exact apt-get line and exits 2 when it may not install them', async () => {
    const { system, calls } = machine(['zookeeper', 'default-jre-headless'], false);
    const { io, out } = captureIo();
    const code = await runCli(['start'], io, { systemPackages: system });
    expect(code).toBe(2);
    expect(calls.install).toBe(0);
    expect(out.stderr).toContain(
      '\n  sudo apt-get update && sudo apt-get install -y zookeeper default-jre-headless\n',
    );
    expect(out.stderr).toMatch(
      /^cairn: missing system packages: zookeeper, default-jre-headless\. Install them with/,
    );
    expect(installCommand(['git'])).toBe('sudo apt-get update && sudo apt-get install -y git');
  });

  it('installs them as root, saying so, with apt’s progress on a terminal', async () => {
    const { system, calls } = machine(['zookeeper'], true, [
      { stage: 'downloading', percent: 40, what: 'Retrieving file 2 of 5' },
      { stage: 'installing', percent: 80, what: 'Unpacking zookeeper (all)' },
    ]);
    const { io, out } = captureIo(true);
    await ensureSystemPackages(io, system, createLogger(io, 'start'));
    expect(calls.install).toBe(1);
    expect(out.stderr.split('\n')).toEqual([
      expect.stringMatching(
        /INFO {2}start installing the missing Debian packages; this takes a minute or two {2}packages=zookeeper$/,
      ),
      expect.stringMatching(/INFO {2}start installed the missing Debian packages {2}packages=zookeeper$/),
      '',
    ]);
    expect(out.status).toContain('[##########--------------] 40%  downloading: Retrieving file 2 of 5  0s');
    expect(out.status).toContain('[###################-----] 80%  installing: Unpacking zookeeper (all)  0s');
    expect(out.status.at(-1)).toBeUndefined();
  });

  it('fails with the command to run by hand when the packages are still missing after installing', async () => {
    const system: SystemPackages = {
      canInstall: true,
      missing: async () => ['git'],
      install: async () => {},
    };
    const { io } = captureIo();
    await expect(ensureSystemPackages(io, system, createLogger(io, 'start'))).rejects.toMatchObject({
      code: 'SYSTEM_PACKAGES_MISSING',
      message: expect.stringContaining('sudo apt-get update && sudo apt-get install -y git'),
    });
  });

  it('reads apt’s status lines', () => {
    expect(parseAptStatus('dlstatus:1:12.5000:Retrieving file 1 of 3')).toEqual({
      stage: 'downloading',
      percent: 13,
      what: 'Retrieving file 1 of 3',
    });
    expect(parseAptStatus('pmstatus:libslf4j-java:20.0000:Unpacking libslf4j-java (amd64)')).toEqual({
      stage: 'installing',
      percent: 20,
      what: 'Unpacking libslf4j-java (amd64)',
    });
    expect(parseAptStatus('Get:1 http://deb.debian.org')).toBeUndefined();
  });

  it('are listed by scripts/install-system-deps.sh, which finds what a machine lacks', async () => {
    // A PATH without java or git: what a fresh machine looks like to the script.
    const empty = await mkdtemp(join(tmpdir(), 'cairn-empty-path-'));
    try {
      const { stdout } = await promisify(execFile)('/bin/bash', [SCRIPT, '--missing'], {
        env: { PATH: empty },
      });
      expect(stdout.split('\n').filter(Boolean)).toEqual(
        expect.arrayContaining(['default-jre-headless', 'git']),
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
