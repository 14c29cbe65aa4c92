import git from 'isomorphic-git';
import { CommitNotFoundError } from './errors.js';
import { isMissingObject } from './git-error-code.js';
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
  const { fs, gitdir, cache } = store;
  let read: Awaited<ReturnType<typeof git.readCommit>>;
  try {
    read = await git.readCommit({ fs, gitdir, cache, oid: commit });
  } catch (error) {
    if (isMissingObject(error)) throw new CommitNotFoundError(commit, store.display, { cause: error });
    throw error;
  }
  const { tree, author, committer, message, parent } = read.commit;
  return {
    commit: read.oid,
    tree,
    author: { name: author.name, email: author.email },
    message: message.trimEnd(),
    time: new Date(committer.timestamp * 1000).toISOString(),
    parents: [...parent],
  };
}

/** The root tree of `commit`, as a CommitNotFoundError when the commit is not in the store. */
export async function treeOfCommit(store: ObjectStore, commit: string): Promise<string> {
  return (await readCommitInfo(store, commit)).tree;
}
