import { lstat, readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
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
  // Names are read as bytes: a name that is not UTF-8 would otherwise be decoded lossily, and the
  // decoded name would then not open. It is kept under its decoded name (U+FFFD for each bad byte),
  // which the validator refuses as it refuses such a name in a git tree.
  const slash = Buffer.from('/');
  const walk = async (current: Buffer, prefix: string): Promise<void> => {
    const entries = await readdir(current, { withFileTypes: true, encoding: 'buffer' });
    entries.sort((a, b) => Buffer.compare(a.name, b.name));
    for (const entry of entries) {
      const full = Buffer.concat([current, slash, entry.name]);
      const name = entry.name.toString('utf8');
      const path = prefix + name;
      // git's own: a folder, or in a worktree or submodule checkout a file naming where it is.
      if (name === '.git') continue;
      if (entry.isDirectory()) {
        if (name === 'node_modules') continue;
        await walk(full, `${path}/`);
      } else if (entry.isFile()) {
        tree.set(path, await readFile(full));
      } else {
        skipped.push({ path, reason: entry.isSymbolicLink() ? 'symbolic link' : 'not a regular file' });
      }
    }
  };
  try {
    await walk(Buffer.from(resolve(dir)), '');
  } catch (error) {
    throw new RepoNotFoundError(dir, (error as Error).message, { cause: error });
  }
  return { tree, skipped };
}
