import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, realpath, rmdir, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { CairnError, removeStaleTempFiles, unsafePathReason } from '../core/index.js';
import {
  agentTempFileOwner,
  discardInFolder,
  type FileSettings,
  putInFolder,
  readRegularFile,
  stageInFolder,
} from './atomic-file.js';
import { UnsafeTargetError } from './errors.js';

/** Opens a folder, and only a folder: a link in its place fails (ENOTDIR), it is never followed. */
const FOLDER_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** A folder the agent holds open, and the path it had when it was opened. */
interface OpenFolder {
  readonly handle: FileHandle;
  readonly path: string;
}

/** A file staged in a service's directory: whole and fsynced beside its target, not yet in place. */
export interface StagedFile {
  /** 'unchanged' when the target held these bytes already: put() and discard() then do nothing. */
  readonly result: 'written' | 'unchanged';
  /** Renames it over its target; the rename is durable at the next sync(). */
  put(): Promise<void>;
  /** Removes it: the target stays as it is. */
  discard(): Promise<void>;
}

/** A folder with a rename or a removal not yet durable, held open until sync() fsyncs it. */
interface UnsyncedFolder {
  readonly handle: FileHandle;
  /** Closed once synced; the directory's own handle is not (close() closes it). */
  readonly owned: boolean;
}

/**
 * A service's directory, held open: every file is reached from it one folder at a time, each folder
 * opened from the one above it without following a link (what `openat(…, O_NOFOLLOW)` does; Node
 * has no `openat`, so the opened folder is named by `/proc/self/fd/<n>`, which Linux resolves to
 * that very folder whatever its path has become). A folder swapped for a link to `/etc` between
 * two writes is refused; swapped while a write is under way, it changes nothing, since the write
 * goes into the folder already opened. After each write every folder on the way is checked against
 * its path once more (fstat against lstat): a folder moved away meanwhile has the file taken back
 * out and the write refused. The folders that writes and removals changed are fsynced by sync()
 * (and close()), once each, however many files changed in them.
 */
export class ServiceDirectory {
  /** The directory's real path, as it was opened. */
  readonly root: string;
  private readonly handle: FileHandle;
  /** Folders changed since the last sync(), by device and inode. */
  private readonly unsynced = new Map<string, UnsyncedFolder>();

  private constructor(root: string, handle: FileHandle) {
    this.root = root;
    this.handle = handle;
  }

  /** Opens the service's directory, created when missing. */
  static async open(directory: string): Promise<ServiceDirectory> {
    await mkdir(directory, { recursive: true, mode: 0o755 });
    return (await ServiceDirectory.openExisting(directory)) as ServiceDirectory;
  }

  /** Opens the service's directory; undefined when there is none. */
  static async openExisting(directory: string): Promise<ServiceDirectory | undefined> {
    if (process.platform !== 'linux')
      throw new CairnError(
        'UNSUPPORTED_PLATFORM',
        `the agent writes files through /proc/self/fd, which ${process.platform} lacks: run it on Linux`,
      );
    const root = await realpath(directory).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (root === undefined) return undefined;
    const handle = await open(root, FOLDER_FLAGS).catch((error: NodeJS.ErrnoException) => {
      throw new UnsafeTargetError(root, '.', `it changed while it was opened (${error.code})`);
    });
    const folder = { handle, path: root };
    if (!(await samePlace(folder))) {
      await handle.close();
      throw new UnsafeTargetError(root, '.', 'it changed while it was opened');
    }
    return new ServiceDirectory(root, handle);
  }

  /** Makes what was written and removed durable (sync), then lets the directory go. */
  async close(): Promise<void> {
    await this.sync();
    await this.handle.close();
  }

  /**
   * Makes every rename and removal since the last sync durable: each folder they changed is
   * fsynced once, all at once, however many files changed in it. Never rejects: as syncFolder,
   * the files themselves were fsynced, and some file systems refuse fsync on a folder.
   */
  async sync(): Promise<void> {
    const folders = [...this.unsynced.values()];
    this.unsynced.clear();
    await Promise.all(
      folders.map(async ({ handle, owned }) => {
        await handle.sync().catch(() => {
          // Best effort: only the entries' durability is at stake, not the files' bytes.
        });
        if (owned) await handle.close().catch(() => undefined);
      }),
    );
  }

  /**
   * Writes `file` (a path from a manifest) atomically, its folders created: staged, then put in
   * place (see stage). The rename is durable at the next sync() or close().
   */
  async write(file: string, bytes: Uint8Array, settings: FileSettings): Promise<'written' | 'unchanged'> {
    const staged = await this.stage(file, bytes, settings);
    await staged.put();
    return staged.result;
  }

  /**
   * Writes `bytes` beside `file`, its folders created, whole and fsynced (stageInFolder), and holds
   * the way to it open until the file is put in place or discarded: a swap writes its files while
   * its journal is made durable, and changes none of the service's before it is. Putting it in
   * place renames it over the target, then checks every folder on the way against its path again:
   * a folder moved away meanwhile has the file taken back out and the write refused.
   */
  async stage(file: string, bytes: Uint8Array, settings: FileSettings): Promise<StagedFile> {
    const { name, chain } = (await this.folders(file, true)) as Folders;
    const folder = chain.at(-1) as OpenFolder;
    let temp: string;
    try {
      const staged = await stageInFolder(fdPath(folder), name, bytes, settings);
      if (staged === 'unchanged') {
        await closeAll(chain);
        return { result: 'unchanged', put: async () => undefined, discard: async () => undefined };
      }
      temp = staged;
    } catch (error) {
      await closeAll(chain);
      throw error;
    }
    let held = true;
    return {
      result: 'written',
      put: async () => {
        if (!held) return;
        held = false;
        let kept: OpenFolder | undefined;
        try {
          await putInFolder(fdPath(folder), temp, name);
          if (!(await this.stillInPlace(chain))) {
            await unlink(join(fdPath(folder), name)).catch(() => {
              // Gone already: nothing of ours is left where the folder went.
            });
            throw new UnsafeTargetError(
              this.root,
              file,
              'a folder on its way was moved while it was written',
            );
          }
          kept = await this.keepUnsynced(folder);
        } finally {
          await closeAll(chain, kept);
        }
      },
      discard: async () => {
        if (!held) return;
        held = false;
        await discardInFolder(fdPath(folder), temp);
        await closeAll(chain);
      },
    };
  }

  /**
   * Removes `file` (a link in its place is removed itself, never followed), then the folders left
   * empty, up to the directory and no further. Nothing to do when a folder on its way is missing.
   */
  async remove(file: string): Promise<void> {
    const found = await this.folders(file, false);
    if (!found) return;
    const { name, chain } = found;
    let kept: OpenFolder | undefined;
    try {
      const folder = chain.at(-1) as OpenFolder;
      const entry = join(fdPath(folder), name);
      const stat = await lstat(entry).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (!stat || stat.isDirectory()) return;
      await unlink(entry);
      kept = await this.keepUnsynced(folder);
      for (let i = chain.length - 1; i > 0; i--) {
        const parent = chain[i - 1] as OpenFolder;
        const segment = file.split('/')[i - 1] as string;
        const removed = await rmdir(join(fdPath(parent), segment)).then(
          () => true,
          () => false, // not empty (or no longer the folder we opened): stop here
        );
        if (!removed) break;
      }
    } finally {
      await closeAll(chain, kept);
    }
  }

  /**
   * Holds `folder` open until the next sync(), unless a handle on the same folder is held already;
   * returns it when it is now held (its chain must not close it).
   */
  private async keepUnsynced(folder: OpenFolder): Promise<OpenFolder | undefined> {
    const { dev, ino } = await folder.handle.stat();
    const key = `${dev}:${ino}`;
    if (this.unsynced.has(key)) return undefined;
    const owned = folder.handle !== this.handle;
    this.unsynced.set(key, { handle: folder.handle, owned });
    return owned ? folder : undefined;
  }

  /**
   * Removes the temp files a killed agent left beside `files` (paths of a manifest), in each of
   * their folders that exists, reached without a link: only names the agent gives its temp files,
   * written by a process that is gone or by an earlier process with this pid (call it before this
   * process writes here). Resolves with the paths removed; the removals are durable at the next sync().
   */
  async removeStaleTempFiles(files: Iterable<string>): Promise<string[]> {
    const byFolder = new Map<string, string>();
    for (const file of files) byFolder.set(posix.dirname(file), file);
    const removed: string[] = [];
    for (const [folderPath, file] of byFolder) {
      const found = await this.folders(file, false).catch(() => undefined);
      if (!found) continue;
      let kept: OpenFolder | undefined;
      try {
        const folder = found.chain.at(-1) as OpenFolder;
        const names = await removeStaleTempFiles(fdPath(folder), agentTempFileOwner);
        if (names.length === 0) continue;
        removed.push(...names.map((name) => (folderPath === '.' ? name : `${folderPath}/${name}`)));
        kept = await this.keepUnsynced(folder);
      } finally {
        await closeAll(found.chain, kept);
      }
    }
    return removed;
  }

  /** The bytes of `file` when it is a regular file reached without a link; otherwise undefined. */
  async read(file: string): Promise<Uint8Array | undefined> {
    const found = await this.folders(file, false).catch(() => undefined);
    if (!found) return undefined;
    try {
      return await readRegularFile(join(fdPath(found.chain.at(-1) as OpenFolder), found.name));
    } finally {
      await closeAll(found.chain);
    }
  }

  /**
   * The folders on the way to `file`, each opened from the one before, the directory first; with
   * `create`, missing ones are made. Undefined without `create` when one is missing. Refuses, with
   * UnsafeTargetError and before anything is written, a path that is absolute, has `..` or empty
   * segments, or meets a link or a non-folder on its way.
   */
  private async folders(file: string, create: boolean): Promise<Folders | undefined> {
    const unsafe = unsafePathReason(file);
    if (unsafe) throw new UnsafeTargetError(this.root, file, unsafe);
    const segments = file.split('/');
    const name = segments.pop() as string;
    const chain: OpenFolder[] = [{ handle: this.handle, path: this.root }];
    try {
      for (const segment of segments) {
        const parent = chain.at(-1) as OpenFolder;
        const path = join(parent.path, segment);
        const entry = join(fdPath(parent), segment);
        let handle = await this.openFolder(file, path, entry, true);
        if (!handle) {
          if (!create) {
            await closeAll(chain);
            return undefined;
          }
          await mkdir(entry, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'EEXIST') throw error;
          });
          handle = (await this.openFolder(file, path, entry, false)) as FileHandle;
        }
        chain.push({ handle, path });
      }
    } catch (error) {
      await closeAll(chain);
      throw error;
    }
    return { name, chain };
  }

  /** Opens a folder of the way; undefined when missing and `missingIsFine`. */
  private async openFolder(
    file: string,
    path: string,
    entry: string,
    missingIsFine: boolean,
  ): Promise<FileHandle | undefined> {
    try {
      return await open(entry, FOLDER_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && missingIsFine) return undefined;
      if (code !== 'ENOTDIR' && code !== 'ELOOP') throw error;
      const stat = await lstat(entry).catch(() => undefined);
      throw new UnsafeTargetError(
        this.root,
        file,
        stat?.isSymbolicLink() ? `${path} is a symbolic link` : `${path} is not a folder`,
      );
    }
  }

  /** Whether every opened folder is still the one its path names (a last check against moves). */
  private async stillInPlace(chain: readonly OpenFolder[]): Promise<boolean> {
    for (const folder of chain) if (!(await samePlace(folder))) return false;
    return true;
  }
}

interface Folders {
  /** The file's own name, in the last folder of the chain. */
  readonly name: string;
  /** The directory, then each folder on the way, open. */
  readonly chain: OpenFolder[];
}

/** The path Linux resolves to the opened folder itself, whatever its name has become. */
function fdPath(folder: OpenFolder): string {
  return `/proc/self/fd/${folder.handle.fd}`;
}

/** Whether `folder.path` still names the folder held open: same device and inode, not a link. */
async function samePlace(folder: OpenFolder): Promise<boolean> {
  const [opened, named] = await Promise.all([
    folder.handle.stat(),
    lstat(folder.path).catch(() => undefined),
  ]);
  return named?.isDirectory() === true && named.dev === opened.dev && named.ino === opened.ino;
}

/**
 * Closes every folder of the chain but the directory itself, which the ServiceDirectory keeps, and
 * `kept`, held until the next sync().
 */
async function closeAll(chain: readonly OpenFolder[], kept?: OpenFolder): Promise<void> {
  for (const folder of chain.slice(1))
    if (folder !== kept) await folder.handle.close().catch(() => undefined);
}
