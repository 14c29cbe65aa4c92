import fs from 'node:fs';
import { join } from 'node:path';

/**
 * The files of a clone this process fetches into, as isomorphic-git reads them. Each isomorphic-git
 * call stats the git directory, and each object it reads is first looked for as a loose file, then
 * in the packs, whose folder it lists every time: three trips through libuv's threads per object.
 * On the path from a webhook to the commit's publication, a one-file change reads a dozen objects,
 * and on a busy machine each trip costs a fraction of a millisecond. Here none of those answers can
 * change behind this process's back (the directory is claimed by one process):
 * - the git directory stays a directory;
 * - the clone holds no loose objects, since fetches write packs and nothing else writes objects
 *   (a clone that does hold some, made by hand, has them read as before);
 * - the packs change only when this process adds one (the pack sink, whichever way it indexes) or
 *   repacks, and says so (`packsChanged`), once the pack and its index are both in place.
 * So they are answered from memory; everything else goes to the disk.
 */
export interface StoreFiles {
  /** What isomorphic-git is given as its file system for the clone. */
  readonly fs: typeof fs;
  /** Says a pack was added or removed: the pack folder is listed afresh at the next read. */
  packsChanged(): void;
}

const LOOSE_OBJECT = /^objects\/([0-9a-f]{2})\/[0-9a-f]{38}$/;
const FAN_OUT_FOLDER = /^[0-9a-f]{2}$/;
/**
 * What a read without a path rejects with: isomorphic-git calls `readFile()` so on every call, to
 * learn whether the file system answers with promises. Made once: an error's stack costs more than
 * the read it stands for.
 */
const NO_PATH = Object.assign(new TypeError('a file path is required'), { code: 'ERR_INVALID_ARG_TYPE' });

export function storeFiles(gitdir: string): StoreFiles {
  const packFolder = join(gitdir, 'objects', 'pack');
  let packs: Promise<string[]> | undefined;
  let looseFolders: Promise<ReadonlySet<string>> | undefined;
  let gitdirStats: Promise<fs.Stats> | undefined;

  const listLooseFolders = async (): Promise<ReadonlySet<string>> => {
    try {
      return new Set(
        (await fs.promises.readdir(join(gitdir, 'objects'))).filter((n) => FAN_OUT_FOLDER.test(n)),
      );
    } catch (error) {
      // No objects folder yet (the clone is being made): nothing loose in it either.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
      throw error;
    }
  };
  const forget = <T>(promise: Promise<T>, clear: () => void): Promise<T> => {
    // A failed answer is not kept: the next call asks the disk again.
    promise.catch(clear);
    return promise;
  };

  const promises: typeof fs.promises = {
    ...fs.promises,
    async readFile(path: unknown, options?: unknown) {
      if (path === undefined) throw NO_PATH;
      const loose = typeof path === 'string' ? LOOSE_OBJECT.exec(relativeTo(gitdir, path)) : null;
      if (loose) {
        looseFolders ??= forget(listLooseFolders(), () => (looseFolders = undefined));
        if (!(await looseFolders).has(loose[1] as string)) throw notFound(path as string);
      }
      return fs.promises.readFile(path as string, options as undefined);
    },
    async readdir(path: unknown, options?: unknown) {
      if (path !== packFolder || options !== undefined)
        return fs.promises.readdir(path as string, options as undefined);
      packs ??= forget(fs.promises.readdir(packFolder), () => (packs = undefined));
      return [...(await packs)];
    },
    async stat(path: unknown, options?: unknown) {
      if (path !== gitdir || options !== undefined)
        return fs.promises.stat(path as string, options as undefined);
      gitdirStats ??= forget(fs.promises.stat(gitdir), () => (gitdirStats = undefined));
      return gitdirStats;
    },
  } as typeof fs.promises;

  return {
    fs: { ...fs, promises } as typeof fs,
    packsChanged() {
      packs = undefined;
    },
  };
}

function relativeTo(gitdir: string, path: string): string {
  return path.startsWith(`${gitdir}/`) ? path.slice(gitdir.length + 1) : '';
}

function notFound(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), {
    code: 'ENOENT',
    errno: -2,
    syscall: 'open',
    path,
  });
}
