import type { ChangedFile, TreeListing } from '../github.js';

/** GitHub lists at most this many files of a pull request. */
export const PULL_REQUEST_FILES_LIMIT = 3000;

/** Every path a pull request touches, including the old name of each renamed file. */
export function pathsOfChangedFiles(files: readonly ChangedFile[]): string[] {
  const paths = new Set<string>();
  for (const file of files) {
    paths.add(file.path);
    if (file.previousPath) paths.add(file.previousPath);
  }
  return [...paths].sort();
}

/** Whether GitHub's file list may be missing files, so the trees must be compared instead. */
export function fileListIsIncomplete(listed: number, changedFiles: number | undefined): boolean {
  return listed >= PULL_REQUEST_FILES_LIMIT || (changedFiles !== undefined && changedFiles > listed);
}

/** Paths whose content or mode differs between two recursive listings, or that only one has. */
export function changedPathsBetween(base: TreeListing, head: TreeListing): string[] {
  const key = (entry: { mode: string; sha: string }) => `${entry.mode} ${entry.sha}`;
  const before = new Map(base.entries.filter((e) => e.type !== 'tree').map((e) => [e.path, key(e)]));
  const changed = new Set<string>();
  for (const entry of head.entries) {
    if (entry.type === 'tree') continue;
    if (before.get(entry.path) !== key(entry)) changed.add(entry.path);
    before.delete(entry.path);
  }
  for (const path of before.keys()) changed.add(path);
  return [...changed].sort();
}
