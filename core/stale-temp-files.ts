import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isRunning } from './process-liveness.js';

/**
 * How a part's temp files are named: the pid of the process that writes one, read from a name that
 * is exactly such a temp file's, or undefined for any other name (which is never touched).
 */
export type TempFileOwner = (name: string) => number | undefined;

/**
 * Removes the temp files in `folder` that `ownerOf` names and whose writer is gone: a process that
 * was killed between writing a temp file and renaming it leaves the file forever otherwise. A file
 * of a live process is left alone (another process sharing the folder may be writing it), and so is
 * one of this very process that `writing` says is being written; one of this process that is not
 * was left by an earlier process that had the same pid (a container's services often do). Only
 * regular files are removed. Resolves with the names removed; a folder that is missing or
 * unreadable has none.
 */
export async function removeStaleTempFiles(
  folder: string,
  ownerOf: TempFileOwner,
  writing: (name: string) => boolean = () => false,
): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    // No folder (nothing was written yet), or one this process may not read: nothing to clean.
    return removed;
  }
  for (const name of names) {
    const pid = ownerOf(name);
    if (pid === undefined || !Number.isSafeInteger(pid) || pid <= 0) continue;
    if (pid === process.pid ? writing(name) : isRunning(pid)) continue;
    const path = join(folder, name);
    try {
      if (!(await lstat(path)).isFile()) continue;
      await unlink(path);
      removed.push(name);
    } catch {
      // Gone meanwhile, or not ours to remove (permissions): left as it is.
    }
  }
  return removed;
}
