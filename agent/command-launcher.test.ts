import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../test/harness/index.js';
import { CommandLauncher, commandLauncher } from './command-launcher.js';
import { runCommand, succeeded } from './run-command.js';

/** Whether a process still runs: it exists and is no zombie waiting for a parent to reap it. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('the command launcher', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-launcher-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = (command: string, onOutput?: (chunk: Buffer) => void) =>
    runCommand({
      step: 'reload',
      command,
      env: { CAIRN_COMMIT: 'c'.repeat(40) },
      timeoutMs: 60_000,
      cwd: dir,
      ...(onOutput ? { onOutput } : {}),
    });

  it('starts every command from a process of its own, never from the agent’s, whose forks it spares', async () => {
    const first = await run('echo "$PPID"');
    const second = await run('echo "$PPID"');
    expect(succeeded(first) && succeeded(second)).toBe(true);
    const parent = Number(first.outputTail.trim());
    expect(parent).not.toBe(process.pid);
    expect(parent).toBe(commandLauncher.pid);
    expect(Number(second.outputTail.trim())).toBe(parent); // one launcher, however many commands
  });

  it('runs its launchers as plain JavaScript, without the loader the agent may run under', async () => {
    // Under a TypeScript loader a launcher took 76 MB instead of 42, and each of its forks copies
    // what it maps: the launcher's entry is JavaScript, started with no option of the agent's.
    expect(succeeded(await run('true'))).toBe(true);
    const argv = readFileSync(`/proc/${commandLauncher.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    expect(argv.slice(1)).toEqual([
      fileURLToPath(new URL('./command-launcher-process.mjs', import.meta.url)),
    ]);
  });

  it('forks a burst of commands from several launchers at once, never waiting for one to start', async () => {
    // A burst that finds every launcher busy starts more for the next one, meanwhile it waits
    // behind a fork of a running launcher rather than for a process to start.
    const first = await Promise.all([1, 2, 3].map(() => run('echo "$PPID"')));
    expect(first.every(succeeded)).toBe(true);
    await waitFor(() => commandLauncher.readyCount >= 3, {
      description: 'three launchers running',
      timeoutMs: 60_000,
    });
    const burst = await Promise.all([1, 2, 3].map(() => run('echo "$PPID"')));
    expect(burst.every(succeeded)).toBe(true);
    const parents = new Set(burst.map((ran) => Number(ran.outputTail.trim())));
    expect(parents.size).toBe(3);
    expect(parents.has(process.pid)).toBe(false);
  });

  it('sends a burst to its running launcher while the ones it starts for the next burst start', async () => {
    const launcher = new CommandLauncher();
    launcher.prepare();
    await waitFor(() => launcher.readyCount === 1, {
      description: 'the launcher running',
      timeoutMs: 60_000,
    });
    const parentOf = () =>
      new Promise<number>((resolve, reject) => {
        let said = '';
        launcher.launch(
          { command: 'echo "$PPID"', cwd: dir, env: {} },
          {
            onStarted: () => {},
            onOutput: (chunk) => {
              said += chunk.toString();
            },
            onEnded: (exitCode, _signal, failure) =>
              exitCode === 0
                ? resolve(Number(said.trim()))
                : reject(new Error(failure ?? `exit ${exitCode}`)),
          },
        );
      });
    const parents = await Promise.all([1, 2, 3].map(parentOf));
    expect(new Set(parents)).toEqual(new Set([launcher.pid]));
    await waitFor(() => launcher.readyCount === 3, {
      description: 'two more launchers running',
      timeoutMs: 60_000,
    });
  });

  it('gives each command the agent’s own environment with Cairn’s variables added', async () => {
    const ran = await run('echo "$PATH|$HOME|$CAIRN_COMMIT"');
    expect(ran.outputTail).toBe(`${process.env.PATH}|${process.env.HOME}|${'c'.repeat(40)}\n`);
  });

  it('fails the runs of a launcher that exits, kills their commands, and starts another for the next', async () => {
    let said = '';
    const hung = run('sleep 60 & echo "sleeping $!"; wait', (chunk) => {
      said += chunk.toString();
    });
    await waitFor(() => said.includes('sleeping'), { description: 'the command started', timeoutMs: 30_000 });
    const sleeper = Number(/sleeping (\d+)/.exec(said)?.[1]);
    const launcher = commandLauncher.pid as number;
    process.kill(launcher, 'SIGKILL');
    const ended = await hung;
    expect(succeeded(ended)).toBe(false);
    expect(ended.outputTail).toContain('the command launcher exited');
    await waitFor(() => !running(sleeper), {
      description: 'the command’s process group killed',
      timeoutMs: 30_000,
    });
    const next = await run('echo "$PPID"');
    expect(succeeded(next)).toBe(true);
    expect(Number(next.outputTail.trim())).not.toBe(launcher);
  });
});
