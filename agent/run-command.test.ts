import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandUser, lookupOwner } from './owner.js';
import { rehearseCommand, runCommand, succeeded } from './run-command.js';

describe('running a check or reload command', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-run-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = (command: string, timeoutMs = 10_000) =>
    runCommand({
      step: 'check',
      command,
      env: { CAIRN_SERVICE: 'api', CAIRN_COMMIT: 'c'.repeat(40) },
      timeoutMs,
      cwd: dir,
    });

  it('runs in the directory with Cairn’s variables, and says how it ended', async () => {
    const ok = await run('echo "$CAIRN_SERVICE $CAIRN_COMMIT" > seen; pwd');
    expect(succeeded(ok)).toBe(true);
    expect(ok.outputTail.trim()).toBe(dir);
    expect(await readFile(join(dir, 'seen'), 'utf8')).toBe(`api ${'c'.repeat(40)}\n`);
    const failed = await run('echo nginx: emerg >&2; exit 3');
    expect(failed).toMatchObject({ exitCode: 3, outputTail: 'nginx: emerg\n' });
    expect(succeeded(failed)).toBe(false);
  });

  it('keeps only the tail of a long output', async () => {
    const noisy = await run('seq 1 100000');
    expect(noisy.outputTail.length).toBeLessThanOrEqual(4096);
    expect(noisy.outputTail.trimEnd().endsWith('100000')).toBe(true);
  });

  it('kills the command and what it started at the timeout', async () => {
    const started = Date.now();
    const hung = await run('sleep 30 & echo started; wait', 300);
    expect(hung).toMatchObject({ timedOut: true });
    expect(succeeded(hung)).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('rehearses a command without running it, saying what would have run', async () => {
    const said: Buffer[] = [];
    const rehearsed = await rehearseCommand({
      step: 'reload',
      command: 'touch ran; systemctl reload nginx',
      env: {},
      timeoutMs: 10_000,
      cwd: dir,
      onOutput: (chunk) => said.push(chunk),
    });
    expect(succeeded(rehearsed)).toBe(true);
    expect(rehearsed).toMatchObject({ step: 'reload', command: 'touch ran; systemctl reload nginx' });
    expect(rehearsed.outputTail).toContain('not run here');
    expect(Buffer.concat(said).toString()).toBe(rehearsed.outputTail);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'runs as the user it is given: its uid and gid, no supplementary groups, its HOME and USER',
    async () => {
      const ran = await runCommand({
        step: 'reload',
        command: 'id -u; id -g; id -G; echo "$HOME $USER $LOGNAME"',
        env: {},
        timeoutMs: 10_000,
        cwd: dir,
        user: 'nobody',
      });
      const nobody = await lookupOwner('nobody');
      expect(ran.outputTail.split('\n')).toEqual([
        String(nobody.uid),
        String(nobody.gid),
        String(nobody.gid),
        `${nobody.home} nobody nobody`,
        '',
      ]);
    },
  );

  it.skipIf(process.getuid?.() !== 0)(
    'runs as a user already looked up as it is, without looking the name up again',
    async () => {
      const nobody = await lookupOwner('nobody');
      // A name the host lacks: a second lookup would refuse to run.
      const given = { ...nobody, name: 'looked-up-once', home: dir };
      const ran = await runCommand({
        step: 'reload',
        command: 'id -u; echo "$HOME $USER"',
        env: {},
        timeoutMs: 10_000,
        cwd: dir,
        user: given,
      });
      expect(succeeded(ran)).toBe(true);
      expect(ran.outputTail).toBe(`${nobody.uid}\n${dir} looked-up-once\n`);
    },
  );

  it('runs nothing for a user the host lacks, and says so in a failed run', async () => {
    const ran = await runCommand({
      step: 'reload',
      command: 'touch ran',
      env: {},
      timeoutMs: 10_000,
      cwd: dir,
      user: 'no-such-user-here',
    });
    expect(succeeded(ran)).toBe(false);
    expect(ran.exitCode).toBeUndefined();
    expect(ran.outputTail).toContain('not run: files.owner "no-such-user-here" is not a user on this host');
    await expect(readFile(join(dir, 'ran'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('who a service’s commands run as', () => {
  it('is files.owner when the agent is root and gives owners', () => {
    expect(commandUser('recommender', { applyOwner: true, uid: 0 })).toBe('recommender');
  });

  it('is the agent’s own user when no owner is named, under --prefix, or when the agent is not root', () => {
    expect(commandUser(undefined, { applyOwner: true, uid: 0 })).toBeUndefined();
    expect(commandUser('recommender', { applyOwner: false, uid: 0 })).toBeUndefined();
    expect(commandUser('recommender', { applyOwner: true, uid: 1000 })).toBeUndefined();
    expect(commandUser('recommender', { applyOwner: true, uid: undefined })).toBeUndefined();
  });
});
