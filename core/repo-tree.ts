import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { RepoNotFoundError } from './errors.js';

/**
 * A config repository's files at one commit or in one directory: POSIX paths relative to the
 * repository root mapped to their bytes. Everything above the source (git, disk) sees only this.
 */
export type RepoTree = ReadonlyMap<string, Uint8Array>;

export interface SkippedEntry {
  readonly path: string;
  readonly reason: string;
}

/**
 * Reads a working directory as a RepoTree, leaving out `.git` and `node_modules`. Symbolic links
 * and special files are skipped and reported: a link could point outside the repository.
 */
export async function readRepoDir(dir: string): Promise<{ tree: RepoTree; skipped: SkippedEntry[] }> {
  let rootStat: Awaited<ReturnType<typeof lstat>>;
  try {
    rootStat = await lstat(dir);
  } catch (error) {
    throw new RepoNotFoundError(dir, 'no such directory', { cause: error });
  }
  if (!rootStat.isDirectory()) throw new RepoNotFoundError(dir, 'not a directory');

  const tree = new Map<string, Uint8Array>();
  const skipped: SkippedEntry[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const full = join(current, entry.name);
      const path = relative(dir, full).split(sep).join('/');
      if (entry.isDirectory()) {
        if (entry.name === '.git' || entry.name === 'node_modules') continue;
        await walk(full);
      } else if (entry.isFile()) {
        tree.set(path, await readFile(full));
      } else {
        skipped.push({ path, reason: entry.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
      }
    }
  };
  try {
    await walk(dir);
  } catch (error) {
    throw new RepoNotFoundError(dir, (error as Error).message, { cause: error });
  }
  return { tree, skipped };
}
