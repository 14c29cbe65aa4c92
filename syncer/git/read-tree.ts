import type { RepoTree } from '../../core/index.js';
import { treeOfCommit } from './commit-info.js';
import { CommitNotFoundError } from './errors.js';
import type { ObjectStore } from './object-store.js';
import { checkLimits, diffTrees, readAllFiles } from './tree-diff.js';
import type { TreeLimits } from './tree-limits.js';

/** The files of a repository at one commit. */
export interface TreeSnapshot {
  readonly commit: string;
  readonly tree: RepoTree;
}

export interface TreeUpdate {
  readonly snapshot: TreeSnapshot;
  /** Paths added, modified or deleted relative to the previous snapshot (every path when there is none). */
  readonly changed: ReadonlySet<string>;
}

/**
 * The files at `commit`, in path order. With `previous`, only the subtrees whose object ids differ
 * are read, and every file that did not change is the very same Uint8Array as in `previous.tree`,
 * so callers may cache what they derive from a file by its identity. A read of every file (the
 * first, or after the previous commit vanished) reports files read out of the total to `onProgress`.
 * A tree over `limits` throws a TreeLimitError, before its files are read.
 */
export async function readTreeAt(
  store: ObjectStore,
  commit: string,
  limits: TreeLimits,
  previous?: TreeSnapshot,
  onProgress?: (read: number, total: number) => void,
): Promise<TreeUpdate> {
  if (!previous) {
    const files = inPathOrder(await readAllFiles(store, commit, limits, onProgress));
    return { snapshot: { commit, tree: files }, changed: new Set(files.keys()) };
  }
  if (previous.commit === commit) return { snapshot: previous, changed: new Set() };
  const tree = await treeOfCommit(store, commit);

  let previousTree: string;
  try {
    previousTree = await treeOfCommit(store, previous.commit);
  } catch (error) {
    if (!(error instanceof CommitNotFoundError)) throw error;
    // The previous commit is gone (a force-push, then a gc of a local repository): compare bytes.
    return reuseEqualFiles(commit, previous.tree, await readAllFiles(store, commit, limits, onProgress));
  }

  const { written, removed } = await diffTrees(store, previousTree, tree, limits);
  const next = new Map(previous.tree);
  for (const path of removed) next.delete(path);
  let added = false;
  for (const [path, bytes] of written) {
    added ||= !next.has(path);
    next.set(path, bytes);
    checkLimits(path, next.size - 1, limits);
  }
  const changed = new Set([...removed, ...written.keys()].sort());
  // Replacing or deleting keeps the order of a Map; only new paths need sorting in.
  return { snapshot: { commit, tree: added ? inPathOrder(next) : next }, changed };
}

/** A snapshot of `files` that keeps each file of `previous` whose bytes are equal, by identity. */
function reuseEqualFiles(
  commit: string,
  previous: RepoTree,
  files: ReadonlyMap<string, Uint8Array>,
): TreeUpdate {
  const tree = new Map<string, Uint8Array>();
  const changed: string[] = [];
  for (const [path, bytes] of files) {
    const before = previous.get(path);
    if (before && Buffer.from(before.buffer, before.byteOffset, before.byteLength).equals(bytes)) {
      tree.set(path, before);
    } else {
      tree.set(path, bytes);
      changed.push(path);
    }
  }
  for (const path of previous.keys()) if (!files.has(path)) changed.push(path);
  return { snapshot: { commit, tree: inPathOrder(tree) }, changed: new Set(changed.sort()) };
}

/** `files` sorted by path; as they are when already so, as git lists a whole tree. */
function inPathOrder(files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  let previous: string | undefined;
  let sorted = true;
  for (const path of files.keys()) {
    if (previous !== undefined && previous > path) {
      sorted = false;
      break;
    }
    previous = path;
  }
  return sorted ? files : new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
