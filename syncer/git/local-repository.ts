import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RepositoryNotFoundError } from './errors.js';

/**
 * The git directory of the repository at `path`, read in place: `path/.git` of a working copy
 * (or the directory a `.git` file points to), or `path` itself when it is a bare repository.
 */
export async function findLocalGitdir(path: string): Promise<string> {
  const dotGit = join(path, '.git');
  const dotGitStat = await statIfPresent(dotGit);
  if (dotGitStat?.isDirectory()) return dotGit;
  if (dotGitStat?.isFile()) {
    const pointer = /^gitdir:\s*(.+?)\s*$/m.exec(await readFile(dotGit, 'utf8'));
    if (pointer?.[1]) return resolve(path, pointer[1]);
  }
  const [head, objects] = await Promise.all([
    statIfPresent(join(path, 'HEAD')),
    statIfPresent(join(path, 'objects')),
  ]);
  if (head?.isFile() && objects?.isDirectory()) return path;
  throw new RepositoryNotFoundError(path, 'neither a .git directory nor a bare repository is there');
}

/** Whatever keeps a path from being read (absent, no permission) means: not a repository here. */
function statIfPresent(path: string): Promise<Stats | undefined> {
  return stat(path).catch(() => undefined);
}
