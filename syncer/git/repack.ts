import { execFile } from 'node:child_process';
import { RepackError } from './errors.js';

/**
 * Puts every object of the clone at `gitdir` into one pack (`git repack -a -d`), in a process of its
 * own: git writes the new pack, then deletes the packs it replaced. Existing deltas are reused, so
 * this costs about a copy of the repository's packs (see syncer/README, "The clone on disk"). No
 * bitmap index: nothing serves fetches from this clone, and isomorphic-git does not read one.
 */
export function repackObjects(gitdir: string, gitCommand = 'git'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      gitCommand,
      ['--git-dir', gitdir, 'repack', '-a', '-d', '-q', '--no-write-bitmap-index'],
      { maxBuffer: 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const why =
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `no ${gitCommand} command: install git`
            : `exit code ${String(error.code)}: ${String(stderr).trim().slice(-2000)}`;
        reject(new RepackError(gitdir, why, { cause: error }));
      },
    );
  });
}
