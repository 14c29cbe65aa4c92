import fs from 'node:fs';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import git from 'isomorphic-git';

/**
 * Copies a directory of config into a new git repository in a temp dir and commits it, so a plain
 * folder (like example-config-repo/) can be mirrored. Returns the repository's path and commit.
 */
export async function importDirectoryAsRepo(dir: string): Promise<{ repo: string; commit: string }> {
  const repo = await mkdtemp(join(tmpdir(), 'cairn-repo-'));
  await cp(dir, repo, { recursive: true, filter: (source) => !source.split(/[\\/]/).includes('.git') });
  await git.init({ fs, dir: repo, defaultBranch: 'main' });
  const status = await git.statusMatrix({ fs, dir: repo });
  await Promise.all(status.map(([filepath]) => git.add({ fs, dir: repo, filepath })));
  const commit = await git.commit({
    fs,
    dir: repo,
    message: `Import ${dir}`,
    author: { name: 'cairn start', email: 'cairn@localhost' },
  });
  return { repo, commit };
}
