import git from 'isomorphic-git';
import { readCommitInfo } from './commit-info.js';
import { isMissingObject } from './git-error-code.js';
import type { ObjectStore } from './object-store.js';

/**
 * Whether `ancestor` is `commit` or one of its ancestors. An `ancestor` the store does not hold
 * cannot be in the history of a commit it holds (fetches bring whole histories): false. An unknown
 * `commit` is a CommitNotFoundError.
 */
export async function isAncestorOf(store: ObjectStore, ancestor: string, commit: string): Promise<boolean> {
  const { parents } = await readCommitInfo(store, commit);
  // The usual case, a commit on top of the one mirrored before, needs no walk.
  if (ancestor === commit || parents.includes(ancestor)) return true;
  const { fs, gitdir, cache } = store;
  try {
    await git.readCommit({ fs, gitdir, cache, oid: ancestor });
  } catch (error) {
    if (isMissingObject(error)) return false;
    throw error;
  }
  return git.isDescendent({ fs, gitdir, cache, oid: commit, ancestor, depth: -1 });
}
