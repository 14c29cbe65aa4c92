import { type SliceOptions, sliceYielder } from '../../core/index.js';
import { readCommitInfo } from './commit-info.js';
import { hasObject } from './object-reader.js';
import type { ObjectStore } from './object-store.js';

/**
 * Whether `ancestor` is `commit` or one of its ancestors. An `ancestor` the store does not hold
 * cannot be in the history of a commit it holds (fetches bring whole histories): false. An unknown
 * `commit` is a CommitNotFoundError.
 */
export async function isAncestorOf(
  store: ObjectStore,
  ancestor: string,
  commit: string,
  slices?: SliceOptions,
): Promise<boolean> {
  const { parents } = await readCommitInfo(store, commit);
  // The usual case, a commit on top of the one mirrored before, needs no walk.
  if (ancestor === commit || parents.includes(ancestor)) return true;
  if (!(await hasObject(store, ancestor))) return false;
  // Otherwise the history is walked (a force-push walks all of it); a packed commit is read without
  // a turn of the event loop, which is handed back once a slice is spent.
  const between = sliceYielder(slices);
  const seen = new Set<string>(parents);
  const pending = [...parents];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (next === ancestor) return true;
    await between();
    for (const parent of (await readCommitInfo(store, next)).parents) {
      if (seen.has(parent)) continue;
      seen.add(parent);
      pending.push(parent);
    }
  }
  return false;
}
