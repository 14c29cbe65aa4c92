import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { isolatedGitEnv } from '../harness/git-command.js';

/**
 * A clone as a fetch leaves one: a bare repository at `intoGitdir` (made when missing) holding, as
 * one pack written by git's own `pack-objects` (`options` such as `--delta-base-offset`), every
 * object reachable from the refs of the repository at `fromGitdir`.
 */
export function packAllObjects(
  fromGitdir: string,
  intoGitdir: string,
  options: readonly string[] = [],
): void {
  const env = isolatedGitEnv();
  execFileSync('git', ['init', '--quiet', '--bare', intoGitdir], { env });
  execFileSync(
    'git',
    [
      '--git-dir',
      fromGitdir,
      'pack-objects',
      '--all',
      '--revs',
      '-q',
      ...options,
      join(intoGitdir, 'objects', 'pack', 'pack'),
    ],
    { env, input: '' },
  );
}
