import { execFileSync } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRegularFile, writeAtomically } from './atomic-file.js';
import { lookupOwner } from './owner.js';

describe('atomic file writes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the bytes with the mode, leaves no temp file, and skips an identical rewrite', async () => {
    const path = join(dir, 'a.yaml');
    expect(await writeAtomically(path, Buffer.from('a: 1\n'), { mode: 0o640 })).toBe('written');
    expect(await readFile(path, 'utf8')).toBe('a: 1\n');
    expect((await lstat(path)).mode & 0o777).toBe(0o640);
    expect(await writeAtomically(path, Buffer.from('a: 1\n'), { mode: 0o640 })).toBe('unchanged');
    expect(await writeAtomically(path, Buffer.from('a: 1\n'), { mode: 0o600 })).toBe('written');
    expect(await readdir(dir)).toEqual(['a.yaml']);
  });

  it('replaces a link planted at the target itself, never what it points to', async () => {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious\n');
    const path = join(dir, 'a.yaml');
    await symlink(victim, path);
    await writeAtomically(path, Buffer.from('a: 1\n'), { mode: 0o644 });
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect((await lstat(path)).isSymbolicLink()).toBe(false);
    expect(await readRegularFile(path)).toEqual(Buffer.from('a: 1\n'));
  });

  it('reads no file through a link or from a FIFO planted in its place (and does not hang on one)', async () => {
    const victim = join(dir, 'victim');
    await writeFile(victim, 'precious\n');
    await symlink(victim, join(dir, 'link'));
    expect(await readRegularFile(join(dir, 'link'))).toBeUndefined();
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(await readRegularFile(fifo)).toBeUndefined();
    // Writing over the FIFO replaces it; it does not wait for a reader.
    await writeAtomically(fifo, Buffer.from('a: 1\n'), { mode: 0o644 });
    expect(await readFile(fifo, 'utf8')).toBe('a: 1\n');
  });

  it('gives files the owner it is asked to (the agent runs as root on hosts)', async () => {
    const owner = await lookupOwner('nobody');
    const path = join(dir, 'owned.yaml');
    if (process.getuid?.() !== 0) {
      await expect(writeAtomically(path, Buffer.from('x'), { mode: 0o644, owner })).rejects.toMatchObject({
        code: 'EPERM',
      });
      return;
    }
    await writeAtomically(path, Buffer.from('x'), { mode: 0o644, owner });
    expect((await lstat(path)).uid).toBe(owner.uid);
    await expect(lookupOwner('no-such-user-here')).rejects.toMatchObject({ code: 'OWNER_NOT_FOUND' });
  });
});
