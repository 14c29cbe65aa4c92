import git from 'isomorphic-git';
import { resolveLocalRef } from './fetch-branch.js';
import { fetchPack } from './fetch-pack.js';
import { gitErrorCode } from './git-error-code.js';
import { hasObject } from './has-object.js';
import type { ObjectStore } from './object-store.js';
import type { RefAdvertisement } from './ref-advertisement.js';
import type { Remote } from './remote.js';

/** Where a remote repository's notes come from: the remote and the refs it advertised last. */
export interface NotesRemote extends Remote {
  readonly timeoutMs: number;
  readonly advertisement: RefAdvertisement;
}

/**
 * The note that `notesRef` (e.g. refs/notes/cairn-approvals) attaches to `commit`, or undefined when
 * there is none. For a remote repository the notes are as `remote.advertisement` lists them: notes are
 * written after the commit they annotate (a merge's approval record follows the merge), so each
 * fetch looks again, and notes that moved are fetched then, in one request; notes that did not move
 * cost none. The fetched notes commit is kept as the local `notesRef`, offered as a "have" next time.
 */
export async function readNote(
  store: ObjectStore,
  remote: NotesRemote | undefined,
  notesRef: string,
  commit: string,
): Promise<string | undefined> {
  const { fs, gitdir, cache } = store;
  let notes = notesRef;
  if (remote) {
    const advertised = remote.advertisement.refs.get(notesRef);
    if (advertised === undefined) return undefined;
    if (!(await hasObject(store, advertised))) {
      const have = await resolveLocalRef(store, notesRef);
      await fetchPack(store, remote, { want: advertised, have }, remote.timeoutMs, remote.advertisement);
      await git.writeRef({ fs, gitdir, ref: notesRef, value: advertised, force: true });
    }
    // Read from the advertised commit itself: it is what the server had when the branch was fetched.
    notes = advertised;
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
