import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  claimDirectory,
  type DirectoryHolder,
  DirectoryInUseError,
  LEASE_MS,
  OWNER_FILE,
} from './directory-claim.js';
import { processStart } from './process-liveness.js';

const HINT = 'give each one its own folder';

let dir: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-claim-'));
});

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

/** A live process of another pid, to name in an owner file. */
async function otherProcess(): Promise<ChildProcess & { pid: number }> {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  children.push(child);
  await once(child, 'spawn');
  return child as ChildProcess & { pid: number };
}

async function plantOwner(holder: Partial<DirectoryHolder>): Promise<string> {
  const text = `${JSON.stringify({ host: hostname(), role: 'syncer', since: '2026-01-01T00:00:00.000Z', ...holder })}\n`;
  await writeFile(join(dir, OWNER_FILE), text);
  return text;
}

async function owner(): Promise<DirectoryHolder> {
  return JSON.parse(await readFile(join(dir, OWNER_FILE), 'utf8')) as DirectoryHolder;
}

describe('claimDirectory', () => {
  it('writes who holds the directory, and removes it on release', async () => {
    const claim = await claimDirectory(dir, 'syncer', HINT);
    expect(await owner()).toMatchObject({ pid: process.pid, host: hostname(), role: 'syncer' });
    await claim.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a directory a live process holds, naming it, and leaves its file alone', async () => {
    const other = await otherProcess();
    const planted = await plantOwner({ pid: other.pid, processStart: await processStart(other.pid) });
    const claiming = claimDirectory(dir, 'syncer', HINT);
    await expect(claiming).rejects.toBeInstanceOf(DirectoryInUseError);
    await expect(claiming).rejects.toMatchObject({ code: 'DIRECTORY_IN_USE' });
    await expect(claiming).rejects.toThrow(
      `in use by another process (syncer pid ${other.pid} on ${hostname()}`,
    );
    await expect(claiming).rejects.toThrow(HINT);
    expect(await readFile(join(dir, OWNER_FILE), 'utf8')).toBe(planted);
    expect(await readdir(dir)).toEqual([OWNER_FILE]);
  });

  it('takes over from a process that is gone', async () => {
    const other = await otherProcess();
    await plantOwner({ pid: other.pid, processStart: await processStart(other.pid) });
    other.kill('SIGKILL');
    await once(other, 'exit');
    const claim = await claimDirectory(dir, 'syncer', HINT);
    expect((await owner()).pid).toBe(process.pid);
    expect(await readdir(dir)).toEqual([OWNER_FILE]);
    await claim.release();
  });

  it('takes over from a pid that now runs another process', async () => {
    const other = await otherProcess();
    await plantOwner({ pid: other.pid, processStart: '1' });
    const claim = await claimDirectory(dir, 'syncer', HINT);
    expect((await owner()).pid).toBe(process.pid);
    await claim.release();
  });

  it('takes over a file an earlier process with this pid left (a restarted container)', async () => {
    await plantOwner({ pid: process.pid, processStart: '1' });
    const claim = await claimDirectory(dir, 'syncer', HINT);
    expect((await owner()).since).not.toBe('2026-01-01T00:00:00.000Z');
    await claim.release();
  });

  it('removes what a claimant killed while writing its owner file left aside', async () => {
    const other = await otherProcess();
    other.kill('SIGKILL');
    await once(other, 'exit');
    const left = `${OWNER_FILE}.${other.pid}-0123abcd.tmp`;
    const alive = `${OWNER_FILE}.${process.ppid}-0123abcd.tmp`;
    await writeFile(join(dir, left), '{}');
    await writeFile(join(dir, alive), '{}');
    const claim = await claimDirectory(dir, 'syncer', HINT);
    expect((await readdir(dir)).sort()).toEqual([OWNER_FILE, alive].sort());
    await claim.release();
  });

  it('takes over an owner file that says nothing readable', async () => {
    await writeFile(join(dir, OWNER_FILE), 'not json');
    const claim = await claimDirectory(dir, 'syncer', HINT);
    expect((await owner()).pid).toBe(process.pid);
    await claim.release();
  });

  it('refuses a second claim within this process until the first is released', async () => {
    const first = await claimDirectory(dir, 'syncer', HINT);
    const since = (await owner()).since;
    const refusal = claimDirectory(`${dir}/`, 'agent', HINT);
    await expect(refusal).rejects.toMatchObject({ code: 'DIRECTORY_IN_USE' });
    // It names the claim that holds the directory, not the one refused.
    await expect(refusal).rejects.toThrow(
      `in use by this process (syncer pid ${process.pid} on ${hostname()}, since ${since})`,
    );
    expect((await owner()).pid).toBe(process.pid);
    await first.release();
    const second = await claimDirectory(dir, 'syncer', HINT);
    await second.release();
  });

  it('trusts a holder on another host while it refreshes its file, and not after', async () => {
    await plantOwner({ pid: 1, host: 'elsewhere.example' });
    await expect(claimDirectory(dir, 'syncer', HINT)).rejects.toThrow('pid 1 on elsewhere.example');
    const past = new Date(Date.now() - LEASE_MS - 1_000);
    await utimes(join(dir, OWNER_FILE), past, past);
    const claim = await claimDirectory(dir, 'syncer', HINT);
    expect((await owner()).host).toBe(hostname());
    await claim.release();
  });

  it('lets exactly one of several processes take over the same stale file', async () => {
    const script = fileURLToPath(new URL('../test/fixtures/directory-claimant.ts', import.meta.url));
    for (let round = 0; round < 3; round++) {
      await plantOwner({ pid: 2 ** 22 + 1 }); // above the kernel's largest pid: not running
      const go = join(dir, `go-${round}`);
      const claimants = Array.from({ length: 4 }, () => {
        const child = spawn(process.execPath, ['--import', 'tsx', script, dir, go], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        children.push(child);
        return createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
      });
      // Each says it is ready, then waits for the go file, so that their claims overlap.
      for (const lines of claimants) expect((await lines.next()).value).toBe('ready');
      await writeFile(go, '');
      // The one that claims holds on until it is killed, so a later claimant cannot simply follow it.
      const said = await Promise.all(claimants.map(async (lines) => (await lines.next()).value as string));
      expect(
        said.filter((line) => line === 'claimed'),
        `round ${round}: ${said.join(', ')}`,
      ).toHaveLength(1);
      expect(said.filter((line) => line === 'DIRECTORY_IN_USE')).toHaveLength(3);
      for (const child of children.splice(0)) child.kill('SIGKILL');
      await rm(go);
    }
  }, 60_000);
});
