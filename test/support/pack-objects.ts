import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { isolatedGitEnv } from '../harness/git-command.js';

/**
 * Writes every object reachable from the refs of the repository at `fromGitdir` as one pack into
 * the `objects/pack` folder of `intoGitdir`, with git's own `pack-objects` (`options` such as
 * `--delta-base-offset`): a clone holding packs only, as a fetch leaves one.
 */
export function packAllObjects(
  fromGitdir: string,
  intoGitdir: string,
  options: readonly string[] = [],
): void {
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
    { env: isolatedGitEnv(), input: '' },
  );
}
