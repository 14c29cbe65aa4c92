import { FolderTree, type RepoTree } from '../../core/index.js';
import { treeOfCommit } from './commit-info.js';
import { CommitNotFoundError } from './errors.js';
import type { ObjectStore } from './object-store.js';
import { checkLimits, diffTrees, readAllFiles } from './tree-diff.js';
import type { TreeLimits } from './tree-limits.js';

/** The files of a repository at one commit. */
export interface TreeSnapshot {
  readonly commit: string;
  /** Shares every folder nothing changed under with the snapshot it was read after. */
  readonly tree: FolderTree;
}

export interface TreeUpdate {
  readonly snapshot: TreeSnapshot;
  /** Paths added, modified or deleted relative to the previous snapshot (every path when there is none). */
  readonly changed: ReadonlySet<string>;
}

/**
 * The files at `commit`, in path order. With `previous`, only the subtrees whose object ids differ
 * are read, every file that did not change is the very same Uint8Array as in `previous.tree`, and
 * every folder nothing changed under is the very same folder, so callers may cache what they derive
 * from a file or a folder by its identity; the new tree costs the folders along the changed paths. A read of every file (the
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
    const tree = FolderTree.of(await readAllFiles(store, commit, limits, onProgress));
    return { snapshot: { commit, tree }, changed: new EveryPathOf(tree) };
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
  // Counted as the files are set one by one after the removals: the first path over the limit is named.
  let size = previous.tree.size;
  for (const path of removed) if (previous.tree.has(path)) size--;
  for (const path of written.keys()) {
    if (!previous.tree.has(path)) size++;
    checkLimits(path, size - 1, limits);
  }
  const changed = new Set([...removed, ...written.keys()].sort());
  return { snapshot: { commit, tree: previous.tree.withChanges(written, removed) }, changed };
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
  return { snapshot: { commit, tree: FolderTree.of(tree) }, changed: new Set(changed.sort()) };
}

/**
 * Every path of a tree, as the set of paths a first read changed: read from the tree itself (which
 * never changes), where a Set of their own cost a copy of every path (100,000 on a large repository).
 */
class EveryPathOf implements ReadonlySet<string> {
  readonly #tree: FolderTree;

  constructor(tree: FolderTree) {
    this.#tree = tree;
  }

  get size(): number {
    return this.#tree.size;
  }

  has(path: string): boolean {
    return this.#tree.has(path);
  }

  *entries(): SetIterator<[string, string]> {
    for (const path of this.#tree.keys()) yield [path, path];
  }

  keys(): SetIterator<string> {
    return this.#tree.keys();
  }

  values(): SetIterator<string> {
    return this.#tree.keys();
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.#tree.keys();
  }

  forEach(callback: (path: string, same: string, set: ReadonlySet<string>) => void): void {
    for (const path of this.#tree.keys()) callback(path, path, this);
  }
}
