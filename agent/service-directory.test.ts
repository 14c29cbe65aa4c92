import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import {
  type FileHandle,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rename,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '../test/harness/index.js';
import { UnsafeTargetError } from './errors.js';
import { ServiceDirectory } from './service-directory.js';

const MODE = { mode: 0o644 } as const;

/** The fsyncs `act` makes, of files and of folders, counted on every FileHandle. */
async function countSyncs(act: () => Promise<void>): Promise<{ files: number; folders: number }> {
  const probe = await open(tmpdir(), 'r');
  const prototype = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const original = prototype.sync;
  const count = { files: 0, folders: 0 };
  const spy = vi.spyOn(prototype, 'sync').mockImplementation(async function (this: FileHandle) {
    const folder = (await this.stat()).isDirectory();
    count[folder ? 'folders' : 'files']++;
    return original.call(this);
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  return count;
}

describe('a service’s directory, where the agent writes', () => {
  let base: string;
  let outside: string;
  let directory: ServiceDirectory;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'cairn-directory-'));
    outside = join(base, 'outside');
    await mkdir(outside);
    directory = await ServiceDirectory.open(join(base, 'etc/app'));
  });
  afterEach(async () => {
    await directory.close();
    await rm(base, { recursive: true, force: true });
  });

  it('writes a file inside the directory, its folders created, and reads it back', async () => {
    expect(await directory.write('conf.d/rules/a.yaml', Buffer.from('a: 1\n'), MODE)).toBe('written');
    expect(await readFile(join(directory.root, 'conf.d/rules/a.yaml'), 'utf8')).toBe('a: 1\n');
    expect(await directory.read('conf.d/rules/a.yaml')).toEqual(Buffer.from('a: 1\n'));
    expect(await directory.write('conf.d/rules/a.yaml', Buffer.from('a: 1\n'), MODE)).toBe('unchanged');
    expect(await readdir(join(directory.root, 'conf.d/rules'))).toEqual(['a.yaml']);
  });

  it.each([['../escape.yaml'], ['/etc/passwd'], ['a/../../escape.yaml'], ['a//b.yaml'], ['']])(
    'refuses the path %j before touching anything',
    async (file) => {
      await expect(directory.write(file, Buffer.from('x'), MODE)).rejects.toBeInstanceOf(UnsafeTargetError);
      await expect(directory.remove(file)).rejects.toBeInstanceOf(UnsafeTargetError);
      expect(await readdir(directory.root)).toEqual([]);
    },
  );

  it('refuses a path through a symbolic link planted in the directory, and through a file', async () => {
    await symlink(outside, join(directory.root, 'linked'));
    await expect(directory.write('linked/a.yaml', Buffer.from('x'), MODE)).rejects.toMatchObject({
      code: 'UNSAFE_TARGET',
      message: expect.stringContaining('linked is a symbolic link'),
    });
    await writeFile(join(outside, 'a.yaml'), 'precious\n');
    await expect(directory.remove('linked/a.yaml')).rejects.toMatchObject({ code: 'UNSAFE_TARGET' });
    expect(await directory.read('linked/a.yaml')).toBeUndefined();
    await writeFile(join(directory.root, 'plain'), 'x');
    await expect(directory.write('plain/a.yaml', Buffer.from('x'), MODE)).rejects.toMatchObject({
      message: expect.stringContaining('plain is not a folder'),
    });
    expect(await readdir(outside)).toEqual(['a.yaml']);
    expect(await readFile(join(outside, 'a.yaml'), 'utf8')).toBe('precious\n');
  });

  it('removes a file and the folders it leaves empty, up to the directory and no further', async () => {
    await directory.write('keep.yaml', Buffer.from('k'), MODE);
    await directory.write('conf.d/rules/a.yaml', Buffer.from('x'), MODE);
    await directory.remove('conf.d/rules/a.yaml');
    expect(await readdir(directory.root)).toEqual(['keep.yaml']);
    await directory.remove('gone/a.yaml'); // nothing there: nothing done, no folder made
    expect(await readdir(directory.root)).toEqual(['keep.yaml']);
  });

  it('fsyncs each folder that writes and removals changed once, however many files changed in it', async () => {
    await directory.write('old.yaml', Buffer.from('old\n'), MODE);
    await directory.sync();
    const synced = await countSyncs(async () => {
      await directory.remove('old.yaml');
      for (const file of ['a.yaml', 'b.yaml', 'conf.d/c.yaml', 'conf.d/d.yaml', 'conf.d/e.yaml'])
        await directory.write(file, Buffer.from(`${file}\n`), MODE);
      await directory.close();
      directory = (await ServiceDirectory.openExisting(join(base, 'etc/app'))) as ServiceDirectory;
    });
    // Each file before its rename; then the directory and conf.d, one fsync each, not one per file.
    expect(synced).toEqual({ files: 5, folders: 2 });
    expect(await readdir(directory.root)).toEqual(['a.yaml', 'b.yaml', 'conf.d']);
  });

  it('makes nothing durable twice: a sync with nothing changed since the last fsyncs nothing', async () => {
    await directory.write('a.yaml', Buffer.from('a\n'), MODE);
    expect(await countSyncs(() => directory.sync())).toEqual({ files: 0, folders: 1 });
    expect(await countSyncs(() => directory.sync())).toEqual({ files: 0, folders: 0 });
  });

  it('removes the temp files a killed agent left beside its files, and nothing else', async () => {
    await directory.write('app.yaml', Buffer.from('a: 1\n'), MODE);
    await directory.write('conf.d/rules.yaml', Buffer.from('r: 1\n'), MODE);
    const alive = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      const gone = spawnSync('true').pid as number;
      const stale = [
        `.app.yaml.cairn-${gone}-0123456789ab.tmp`,
        // This very pid, before this process wrote anything here: an earlier agent's.
        `conf.d/.rules.yaml.cairn-${process.pid}-0123456789ab.tmp`,
        // Beside a file the agent has not put in place yet: any name, in a folder of its files.
        `conf.d/.new.yaml.cairn-${gone}-0123456789ab.tmp`,
      ];
      const kept = [
        // An agent that runs: its write is under way.
        `.app.yaml.cairn-${alive.pid}-0123456789ab.tmp`,
        // Look-alikes the agent never writes.
        `.app.yaml.cairn-${gone}-0123456789a.tmp`,
        `.app.yaml.cairn-0123456789ab.tmp`,
        `app.yaml.cairn-${gone}-0123456789ab.tmp`,
        `.app.yaml.cairn-${gone}-0123456789ab.tmp~`,
        `.app.yaml.cairn-${gone}-0123456789AB.tmp`,
      ];
      for (const path of [...stale, ...kept]) await writeFile(join(directory.root, path), 'partial');
      // A folder of no managed file, and one reached through a link: not looked into.
      await mkdir(join(directory.root, 'other'));
      await writeFile(join(directory.root, `other/.x.cairn-${gone}-0123456789ab.tmp`), 'not ours to judge');
      await writeFile(join(outside, `.y.cairn-${gone}-0123456789ab.tmp`), 'outside');
      await symlink(outside, join(directory.root, 'linked'));

      const removed = await directory.removeStaleTempFiles(['app.yaml', 'conf.d/rules.yaml', 'linked/y']);
      expect(removed.sort()).toEqual([...stale].sort());
      expect((await readdir(directory.root)).sort()).toEqual(
        ['app.yaml', 'conf.d', 'linked', 'other', ...kept].sort(),
      );
      expect(await readdir(join(directory.root, 'conf.d'))).toEqual(['rules.yaml']);
      expect(await readdir(join(directory.root, 'other'))).toHaveLength(1);
      expect(await readdir(outside)).toHaveLength(1);
    } finally {
      alive.kill();
      await once(alive, 'exit');
    }
  });

  it('takes a file back out and refuses the write when a folder on its way moved meanwhile', async () => {
    await directory.write('conf.d/a.yaml', Buffer.from('a: 1\n'), MODE);
    // The folder is opened by the write below; moving it away before the write's last check is what
    // a swap in the middle of a write does. Move it as soon as its temp file appears.
    const moved = join(directory.root, 'moved');
    const watcher = watch(join(directory.root, 'conf.d'), (_event, name) => {
      if (name?.includes('.cairn-'))
        void rename(join(directory.root, 'conf.d'), moved).catch(() => undefined);
    });
    try {
      await expect(directory.write('conf.d/a.yaml', Buffer.from('a: 2\n'), MODE)).rejects.toMatchObject({
        code: 'UNSAFE_TARGET',
        message: expect.stringContaining('moved while it was written'),
      });
    } finally {
      watcher.close();
    }
    expect(await readdir(moved)).toEqual([]);
  });

  describe('against a process that keeps swapping a folder of the directory for a link to outside', () => {
    let swapper: ChildProcess | undefined;
    let watcher: FSWatcher | undefined;
    afterEach(async () => {
      watcher?.close();
      // A process killed by a signal has no exit code: its signal says it ended.
      if (swapper && swapper.exitCode === null && swapper.signalCode === null) {
        const exited = new Promise((resolve) => swapper?.once('exit', resolve));
        swapper.kill('SIGKILL');
        await exited;
      }
    });

    it('never writes outside, whichever moment the swap happens', { timeout: 240_000 }, async () => {
      const sub = join(directory.root, 'sub');
      await mkdir(sub);
      const seenOutside: string[] = [];
      watcher = watch(outside, (_event, name) => seenOutside.push(String(name)));
      // Folder out, link in, link out, folder back, until killed; each state held a moment at most
      // (Atomics.wait is a sleep that needs no event loop), so that under any load writes both land
      // and meet the link.
      const script = `
        const fs = require('node:fs');
        const [sub, real, out] = process.argv.slice(1);
        const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.random() * ms);
        for (;;) {
          try { fs.renameSync(sub, real); } catch { fs.rmSync(sub, { recursive: true, force: true }); }
          try { fs.symlinkSync(out, sub); } catch {}
          pause(2);
          try { fs.unlinkSync(sub); } catch {}
          try { fs.renameSync(real, sub); } catch { fs.rmSync(sub, { recursive: true, force: true }); }
          pause(2);
        }`;
      swapper = spawn(process.execPath, ['-e', script, sub, join(directory.root, 'sub.real'), outside], {
        stdio: 'ignore',
      });
      let written = 0;
      let refused = 0;
      let n = 0;
      const unexpected: unknown[] = [];
      // Until the race went both ways many times: writes that landed and writes refused.
      await waitFor(
        async () => {
          n++;
          try {
            await directory.write('sub/a.yaml', Buffer.from(`n: ${n}\n`), MODE);
            written++;
          } catch (error) {
            if (error instanceof UnsafeTargetError) refused++;
            // The swapper deleted the folder the write had opened: a failed write, retried by the agent.
            else if ((error as NodeJS.ErrnoException).code !== 'ENOENT') unexpected.push(error);
          }
          return written >= 3 && refused >= 3;
        },
        { description: 'writes both landed and refused during the swaps', timeoutMs: 150_000, intervalMs: 0 },
      ).catch((error: Error) => {
        throw new Error(`${error.message} (${written} landed, ${refused} refused, of ${n})`);
      });
      swapper.kill('SIGKILL');
      expect(unexpected).toEqual([]);
      expect(seenOutside).toEqual([]);
      expect(await readdir(outside)).toEqual([]);
      expect((await lstat(directory.root)).isDirectory()).toBe(true);
    });
  });
});
