import git from 'isomorphic-git';
import { resolveLocalRef } from './fetch-branch.js';
import { fetchPack } from './fetch-pack.js';
import { gitErrorCode, isMissingObject } from './git-error-code.js';
import { parseCommit, parseTree } from './git-objects.js';
import { hasObject, readObject } from './object-reader.js';
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
  const { fs, gitdir } = store;
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
  let notesCommit: string;
  try {
    notesCommit = remote ? notes : await git.resolveRef({ fs, gitdir, ref: notes });
  } catch (error) {
    // No notes ref at all.
    if (gitErrorCode(error) === 'NotFoundError') return undefined;
    throw error;
  }
  try {
    return await noteIn(
      store,
      parseCommit((await readObject(store, notesCommit, 'commit')).bytes).tree,
      commit,
    );
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
}

/**
 * The note for `commit` in the notes tree `tree`: named by the commit's id, or, once a notes tree
 * grows large, under folders of its id's leading pairs of digits (`ab/cdef…`), as git lays them out.
 */
async function noteIn(store: ObjectStore, tree: string, commit: string): Promise<string | undefined> {
  const entries = parseTree((await readObject(store, tree, 'tree')).bytes);
  const note = entries.get(commit);
  if (note?.type === 'blob') return (await readObject(store, note.oid, 'blob')).bytes.toString('utf8');
  const folder = entries.get(commit.slice(0, 2));
  return folder?.type === 'tree' ? noteIn(store, folder.oid, commit.slice(2)) : undefined;
}
