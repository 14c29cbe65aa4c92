import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCairnWithin, type TimedCairnRun } from '../test/support/cairn-process.js';

/** A mistake is reported at once; this only ends a command that does not. */
const KILL_AFTER_MS = 45_000;

let scratch: string;
let cwd: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cairn-mistakes-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});
let n = 0;
beforeEach(async () => {
  cwd = join(scratch, `cwd-${++n}`);
  await mkdir(cwd);
});

const cairn = (...args: string[]) =>
  runCairnWithin(KILL_AFTER_MS, args, { CAIRN_ZK_CONNECT_TIMEOUT: '2s' }, { cwd });

/** Ended by itself with exit 2 and one line naming the problem: not a bug report, not a stack. */
function expectMistake(run: TimedCairnRun, ...words: string[]): void {
  expect(run.killed, `still running; stderr: ${run.stderr}`).toBe(false);
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr).not.toContain('please report it');
  expect(run.stderr).not.toMatch(/^\s+at /m);
  const line = run.stderr.split('\n').find((l) => l.startsWith('cairn: ')) ?? '';
  for (const word of words) expect(line).toContain(word);
}

describe('cairn start, given a mistake, says what to fix and leaves nothing behind', () => {
  it('a --repo that does not exist', async () => {
    const run = await cairn('start', '--repo', '/nonexistent/config');
    expectMistake(run, '--repo /nonexistent/config: no such directory', 'leave --repo out');
    expect(await readdir(cwd)).toEqual([]);
  });

  it('a --repo that is a file', async () => {
    await writeFile(join(scratch, 'a-file'), 'x');
    const run = await cairn('start', '--repo', join(scratch, 'a-file'));
    expectMistake(run, 'is a file');
    expect(await readdir(cwd)).toEqual([]);
  });

  describe('a --listen port another process holds', () => {
    let holder: Server;
    beforeAll(async () => {
      holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    });

    it('EADDRINUSE', async () => {
      const port = (holder.address() as { port: number }).port;
      const run = await cairn('start', '--listen', `127.0.0.1:${port}`);
      expectMistake(run, `--listen 127.0.0.1:${port}: the port is in use`, 'another port');
      expect(await readdir(cwd)).toEqual([]);
    });
  });

  it('a --zk where no ZooKeeper answers, instead of retrying forever', async () => {
    const run = await cairn('start', '--zk', '127.0.0.1:1');
    expectMistake(run, '--zk 127.0.0.1:1: could not connect', 'leave --zk out');
    expect(await readdir(cwd)).toEqual([]);
  });
});

describe('cairn schemas --out', () => {
  it('an existing file: refused, the file untouched', async () => {
    await writeFile(join(cwd, 'README.md'), '# mine\n');
    const run = await cairn('schemas', '--out', 'README.md');
    expectMistake(run, '--out README.md is a file, not a folder');
    expect(await readFile(join(cwd, 'README.md'), 'utf8')).toBe('# mine\n');
    expect(await readdir(cwd)).toEqual(['README.md']);
  });
});

describe('cairn sync --once', () => {
  it('a --repo that does not exist', async () => {
    const run = await cairn('sync', '--once', '--repo', '/nonexistent/config', '--zk', '127.0.0.1:1');
    expectMistake(run, 'no git repository at /nonexistent/config', 'check --repo');
  });

  it('a --max-files or --max-path-depth that is not a whole number of at least 1', async () => {
    const files = await cairn('sync', '--once', '--repo', scratch, '--zk', '127.0.0.1:1', '--max-files', '0');
    expectMistake(files, '--max-files "0" is not a whole number of at least 1');
    const depth = await cairn(
      'sync',
      '--once',
      '--repo',
      scratch,
      '--zk',
      '127.0.0.1:1',
      '--max-path-depth',
      'deep',
    );
    expectMistake(depth, '--max-path-depth "deep" is not a whole number of at least 1');
  });
});
