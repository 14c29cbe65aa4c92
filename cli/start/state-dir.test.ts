import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startZooKeeper } from '../../test/harness/index.js';
import { runCli } from '../program.js';
import type { SystemPackages } from '../system-packages.js';
import { STATE_ENTRIES, StateDir } from './state-dir.js';

const run = promisify(execFile);
const noneMissing: SystemPackages = { canInstall: false, missing: async () => [], install: async () => {} };

describe('the state directory of cairn start', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-state-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is used by one cairn start at a time', async () => {
    const first = await StateDir.claim(dir);
    // This test's own process stands in for a running cairn start.
    await writeFile(join(dir, 'cairn-start.json'), JSON.stringify({ created: [], pid: process.ppid }));
    await expect(StateDir.claim(dir, async () => true)).rejects.toMatchObject({
      code: 'STATE_DIR_IN_USE',
      message: expect.stringContaining(`another cairn start (pid ${process.ppid})`),
    });
    // A pid that no longer runs cairn start (a crash, a reboot) does not hold it.
    await expect(StateDir.claim(dir, async () => false)).resolves.toBeInstanceOf(StateDir);
    await first.release();
  });

  it('deletes only what cairn start created there when starting over', async () => {
    const state = await StateDir.claim(dir);
    await mkdir(state.entry(STATE_ENTRIES.repo));
    await writeFile(join(state.entry(STATE_ENTRIES.repo), 'cairn.yaml'), 'apiVersion: cairn/v1\n');
    await state.created(STATE_ENTRIES.repo, { importedFrom: '/somewhere' });
    await state.ignoreInGit();
    // Things of the person's own: a zookeeper folder cairn start did not make, committed schemas.
    await mkdir(join(dir, 'zookeeper'));
    await mkdir(join(dir, 'schemas'));
    await writeFile(join(dir, 'schemas', 'service.schema.json'), '{}');

    expect(state.createdEntries().sort()).toEqual(['.gitignore', 'repo']);
    await state.removeCreated();
    expect(existsSync(join(dir, 'repo'))).toBe(false);
    expect(existsSync(join(dir, '.gitignore'))).toBe(false);
    expect(existsSync(join(dir, 'zookeeper'))).toBe(true);
    expect(await readFile(join(dir, 'schemas', 'service.schema.json'), 'utf8')).toBe('{}');
    expect(state.importedFrom).toBeUndefined();
  });

  it('keeps a repository imported from elsewhere, and says how to start over instead', async () => {
    const state = await StateDir.claim(dir);
    await mkdir(state.entry(STATE_ENTRIES.repo));
    await state.created(STATE_ENTRIES.repo, { importedFrom: '/elsewhere/config' });
    await state.release();
    const plain = await mkdtemp(join(tmpdir(), 'cairn-plain-'));
    let stderr = '';
    try {
      const code = await runCli(
        ['start', '--repo', plain, '--state-dir', dir],
        {
          stdout: () => {},
          stderr: (text) => {
            stderr += text;
          },
          cwd: dir,
          env: { CAIRN_LOG_LEVEL: 'silent' },
        },
        { systemPackages: noneMissing },
      );
      expect(code).toBe(2);
      expect(stderr).toBe(
        `cairn: ${join(dir, 'repo')} was imported from /elsewhere/config, and may hold commits of yours: to import ${plain} instead, start over with --fresh (which deletes it) or pass --state-dir <another folder>\n`,
      );
      expect(existsSync(join(dir, 'repo'))).toBe(true);
    } finally {
      await rm(plain, { recursive: true, force: true });
    }
  });

  it('is given back when a stop comes before everything is up', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'cairn-in-place-'));
    const git = (...args: string[]) => run('git', ['-C', repo, ...args]);
    let stderr = '';
    // A ZooKeeper that answers: an unreachable --zk is refused before the state directory is used.
    const zk = await startZooKeeper();
    try {
      await git('init', '-q', '-b', 'main');
      await git(
        '-c',
        'user.name=A',
        '-c',
        'user.email=a@example.com',
        'commit',
        '-q',
        '--allow-empty',
        '-m',
        'Empty',
      );
      const code = await runCli(
        // The stop signal has come already: it is heard at the first step after the checks.
        ['start', '--repo', repo, '--zk', zk.connectString, '--state-dir', dir],
        {
          stdout: () => {},
          stderr: (text) => {
            stderr += text;
          },
          cwd: dir,
          env: {},
        },
        { stopSignal: () => Promise.resolve(), systemPackages: noneMissing },
      );
      expect(code).toBe(0);
      expect(stderr).toMatch(/"msg":"stopping: [^"]+ \(before everything was up\)"/);
      const manifest = JSON.parse(await readFile(join(dir, 'cairn-start.json'), 'utf8')) as { pid?: number };
      expect(manifest.pid).toBeUndefined();
    } finally {
      await zk.close();
      await rm(repo, { recursive: true, force: true });
    }
  });
});
