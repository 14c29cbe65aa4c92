import { CairnError } from '../../core/index.js';
import { GitHubError } from '../errors.js';
import type { GitHub } from '../github.js';

export interface GitNote {
  /** The notes ref, e.g. `refs/notes/cairn-approvals`. */
  readonly ref: string;
  /** The commit the note is about. */
  readonly target: string;
  readonly content: string;
  readonly message: string;
}

export interface WrittenNote {
  /** False when the commit already had a note there: the first record stands. */
  readonly written: boolean;
  /** The note as it now is in the repository. */
  readonly content: string;
  readonly notesCommit: string;
}

/** Attempts at moving the notes ref before giving up: each failure means another writer won a race. */
const ATTEMPTS = 5;

/**
 * Adds a git note through the Git Data API, the way `git notes add` would: a blob, a tree based on the
 * notes tree with the blob named after the annotated commit, a commit whose parent is the previous
 * notes commit, and a fast-forward of the notes ref. When another writer moved the ref in between, the
 * update is not a fast-forward; it starts over from the new notes commit, so no note is ever lost.
 */
export async function writeGitNote(github: GitHub, note: GitNote): Promise<WrittenNote> {
  let blob: string | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const parent = await github.getRef(note.ref);
    const parentTree = parent ? await github.getCommitTree(parent) : undefined;
    let path = note.target;
    if (parent && parentTree) {
      const existing = await findNote(github, parentTree, note.target);
      if (existing.sha) {
        const bytes = await github.getBlob(existing.sha);
        return { written: false, content: Buffer.from(bytes).toString('utf8'), notesCommit: parent };
      }
      path = existing.path;
    }
    blob ??= await github.createBlob(note.content);
    const tree = await github.createTree(parentTree, [{ path, sha: blob }]);
    const commit = await github.createCommit(note.message, tree, parent ? [parent] : []);
    try {
      if (parent) await github.fastForwardRef(note.ref, commit);
      else await github.createRef(note.ref, commit);
      return { written: true, content: note.content, notesCommit: commit };
    } catch (error) {
      // 422: not a fast-forward, or the ref appeared meanwhile. Both mean: read the ref again.
      if (!(error instanceof GitHubError && error.code === 'GITHUB_REJECTED')) throw error;
      lastError = error;
    }
  }
  throw new CairnError(
    'NOTES_REF_CONTENDED',
    `could not move ${note.ref} after ${ATTEMPTS} attempts, another writer kept moving it: redeliver the webhook to try again`,
    { cause: lastError },
  );
}

/**
 * Where the note for `target` is, or would go, in a notes tree. Git stores notes flat (the file is named
 * by the commit id) until there are many, then fans out by the first two hex digits (`ab/cdef…`);
 * a new note follows whichever layout the tree already uses.
 */
async function findNote(
  github: GitHub,
  notesTree: string,
  target: string,
): Promise<{ path: string; sha?: string }> {
  const root = await github.getTree(notesTree, false);
  const flat = root.entries.find((entry) => entry.path === target && entry.type === 'blob');
  if (flat) return { path: target, sha: flat.sha };
  const prefix = target.slice(0, 2);
  const fanout = root.entries.find((entry) => entry.path === prefix && entry.type === 'tree');
  if (!fanout) return { path: target };
  const path = `${prefix}/${target.slice(2)}`;
  const inner = await github.getTree(fanout.sha, false);
  const entry = inner.entries.find((e) => e.path === target.slice(2) && e.type === 'blob');
  return entry ? { path, sha: entry.sha } : { path };
}
