import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OWNER_FILE } from '../core/index.js';
import { claimCacheDir } from './cache-claim.js';

let root: string;
let holder: ChildProcess & { pid: number };
const logged: string[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => logged.push(line) });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-cache-claim-'));
  holder = spawn('sleep', ['600'], { stdio: 'ignore' }) as ChildProcess & { pid: number };
  await once(holder, 'spawn');
  logged.length = 0;
});

afterEach(async () => {
  holder.kill('SIGKILL');
  await rm(root, { recursive: true, force: true });
});

/** Makes `dir` held by the live `sleep` process, as another syncer would hold it. */
async function heldByAnother(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const owner = { pid: holder.pid, host: hostname(), role: 'syncer', since: new Date().toISOString() };
  await writeFile(join(dir, OWNER_FILE), JSON.stringify(owner));
}

describe('claimCacheDir', () => {
  it('refuses a --cache-dir another syncer holds', async () => {
    const cacheDir = join(root, 'given');
    await heldByAnother(cacheDir);
    await expect(claimCacheDir({ cacheDir }, logger)).rejects.toMatchObject({
      code: 'DIRECTORY_IN_USE',
      message: expect.stringContaining('give each syncer its own --cache-dir'),
    });
  });

  it('takes the next free folder beside the default one, and says so', async () => {
    const cacheDir = join(root, 'default');
    await heldByAnother(cacheDir);
    await heldByAnother(`${cacheDir}.2`);
    const claim = await claimCacheDir({ cacheDir, cacheDirIsDefault: true }, logger);
    try {
      expect(claim.dir).toBe(`${cacheDir}.3`);
      expect(JSON.parse(await readFile(join(`${cacheDir}.3`, OWNER_FILE), 'utf8')).pid).toBe(process.pid);
      expect(logged.join('')).toContain('the default cache directory is held by another syncer');
    } finally {
      await claim.release();
    }
  });

  it('takes the default folder itself when it is free', async () => {
    const cacheDir = join(root, 'default');
    const claim = await claimCacheDir({ cacheDir, cacheDirIsDefault: true }, logger);
    expect(claim.dir).toBe(cacheDir);
    expect(logged).toEqual([]);
    await claim.release();
  });
});
