export type FileChangeKind = 'added' | 'modified' | 'removed';

/** How one file differs between two snapshots, by content id (the git blob id of its bytes). */
export interface FileDelta {
  readonly file: string;
  readonly kind: FileChangeKind;
  /** The new content's id; undefined when the file was removed. */
  readonly contentId: string | undefined;
  /** The old content's id; undefined when the file was added. */
  readonly previousContentId: string | undefined;
}

/** One file of a delivered change: its delta and its parsed values. */
export interface FileChange<T = unknown> extends FileDelta {
  /** The new value; undefined when the file was removed. */
  readonly value: T | undefined;
  /** The value the service had before; undefined when the file was added. */
  readonly previousValue: T | undefined;
}

/** The files that differ between two snapshots (path → content id), sorted by path. */
export function diffFiles(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): FileDelta[] {
  const deltas: FileDelta[] = [];
  for (const [file, contentId] of after) {
    const previousContentId = before.get(file);
    if (previousContentId === undefined)
      deltas.push({ file, kind: 'added', contentId, previousContentId: undefined });
    else if (previousContentId !== contentId)
      deltas.push({ file, kind: 'modified', contentId, previousContentId });
  }
  for (const [file, previousContentId] of before) {
    if (!after.has(file)) deltas.push({ file, kind: 'removed', contentId: undefined, previousContentId });
  }
  return deltas.sort(byFile);
}

/**
 * Two consecutive changes as one, for a consumer that fell behind: each file goes from its state
 * before `older` to its state after `newer`, and a file that ends where it began drops out. The result
 * equals diffing the snapshot before `older` with the snapshot after `newer`.
 */
export function mergeFileChanges<C extends FileChange>(older: readonly C[], newer: readonly C[]): C[] {
  const merged = new Map<string, C>(older.map((change) => [change.file, change]));
  for (const change of newer) {
    const first = merged.get(change.file);
    if (!first) {
      merged.set(change.file, change);
      continue;
    }
    const previousContentId = first.previousContentId;
    const contentId = change.contentId;
    if (previousContentId === contentId) {
      merged.delete(change.file);
      continue;
    }
    const kind: FileChangeKind =
      previousContentId === undefined ? 'added' : contentId === undefined ? 'removed' : 'modified';
    merged.set(change.file, {
      ...change,
      kind,
      previousContentId,
      previousValue: first.previousValue,
    });
  }
  return [...merged.values()].sort(byFile);
}

function byFile(a: { file: string }, b: { file: string }): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : 0;
}
