import { CommitNotFoundError } from './errors.js';
import { isMissingObject } from './git-error-code.js';
import { parseCommit } from './git-objects.js';
import { readObject } from './object-reader.js';
import type { ObjectStore } from './object-store.js';

/** What the syncer records about a mirrored commit (in `/head` and the history). */
export interface CommitInfo {
  readonly commit: string;
  readonly tree: string;
  readonly author: { readonly name: string; readonly email: string };
  /** The message without the trailing newline git stores. */
  readonly message: string;
  /** ISO 8601 (UTC) of the committer timestamp: when the commit landed, not when it was written. */
  readonly time: string;
  readonly parents: readonly string[];
}

export async function readCommitInfo(store: ObjectStore, commit: string): Promise<CommitInfo> {
  let bytes: Buffer;
  try {
    bytes = (await readObject(store, commit, 'commit')).bytes;
  } catch (error) {
    if (isMissingObject(error)) throw new CommitNotFoundError(commit, store.display, { cause: error });
    throw error;
  }
  const { tree, author, committedAt, message, parents } = parseCommit(bytes);
  return {
    commit,
    tree,
    author,
    message: message.trimEnd(),
    time: new Date(committedAt * 1000).toISOString(),
    parents,
  };
}

/** The root tree of `commit`, as a CommitNotFoundError when the commit is not in the store. */
export async function treeOfCommit(store: ObjectStore, commit: string): Promise<string> {
  return (await readCommitInfo(store, commit)).tree;
}
