import git from 'isomorphic-git';
import { fetchRef } from './fetch-branch.js';
import { gitErrorCode } from './git-error-code.js';
import type { ObjectStore } from './object-store.js';
import type { Remote } from './remote.js';

/**
 * The note that `notesRef` (e.g. refs/notes/cairn-approvals) attaches to `commit`, or undefined when
 * there is none. For a remote repository the notes ref is fetched first: notes are written after the
 * commit they annotate (a merge's approval record follows the merge), so each call looks again.
 */
export async function readNote(
  store: ObjectStore,
  remote: (Remote & { readonly timeoutMs: number }) | undefined,
  notesRef: string,
  commit: string,
): Promise<string | undefined> {
  const { fs, gitdir, cache } = store;
  let notes = notesRef;
  if (remote) {
    try {
      const result = await fetchRef(store, remote, { ref: notesRef, remoteRef: notesRef }, remote.timeoutMs);
      if (!result.fetchHead) return undefined;
      // Read from the fetched commit itself: the fetch does not update a local ref of that name.
      notes = result.fetchHead;
    } catch (error) {
      if (gitErrorCode(error) === 'NotFoundError') return undefined;
      throw error;
    }
  }
  try {
    const note = await git.readNote({ fs, gitdir, cache, ref: notes, oid: commit });
    return Buffer.from(note).toString('utf8');
  } catch (error) {
    // No notes ref at all, or no note for this commit in it.
    if (gitErrorCode(error) === 'NotFoundError') return undefined;
    throw error;
  }
}
