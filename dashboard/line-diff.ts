import { structuredPatch } from 'diff';

/** One line of a diff: in both files (context), only in the newer one, or only in the older one. */
export interface DiffLine {
  readonly kind: 'context' | 'added' | 'removed';
  readonly text: string;
  /** Its number in the older file (context and removed lines) and in the newer one (context and added). */
  readonly old?: number;
  readonly new?: number;
  /** The file ends on this line without a newline. */
  readonly noNewlineAtEnd?: true;
}

export interface DiffHunk {
  readonly oldStart: number;
  readonly oldLines: number;
  readonly newStart: number;
  readonly newLines: number;
  readonly lines: readonly DiffLine[];
}

/** Two texts compared line by line; `comparable: false` when they differ too much to compare in time. */
export type LineDiff =
  | {
      readonly comparable: true;
      readonly added: number;
      readonly removed: number;
      readonly hunks: readonly DiffHunk[];
    }
  | { readonly comparable: false };

/** Lines of unchanged text kept around each change, as `git diff` does. */
const CONTEXT_LINES = 3;
/** Files are at most a few hundred KB (limits.maxFileBytes), but two unrelated ones can still take long. */
const DIFF_TIMEOUT_MS = 2_000;

/**
 * `before` and `after` compared line by line (jsdiff's Myers diff, as `git diff` shows it): hunks of
 * changed lines with three lines of context, each line numbered in the file it belongs to.
 */
export function lineDiff(before: string, after: string): LineDiff {
  const patch = structuredPatch('', '', before, after, undefined, undefined, {
    context: CONTEXT_LINES,
    timeout: DIFF_TIMEOUT_MS,
  });
  if (!patch) return { comparable: false };
  let added = 0;
  let removed = 0;
  const hunks = patch.hunks.map((hunk): DiffHunk => {
    let oldLine = hunk.oldStart;
    let newLine = hunk.newStart;
    const lines: DiffLine[] = [];
    for (const raw of hunk.lines) {
      const text = raw.slice(1);
      if (raw.startsWith('\\')) {
        // "\ No newline at end of file" is about the line before it.
        const previous = lines.pop();
        if (previous) lines.push({ ...previous, noNewlineAtEnd: true });
      } else if (raw.startsWith('+')) {
        added += 1;
        lines.push({ kind: 'added', text, new: newLine++ });
      } else if (raw.startsWith('-')) {
        removed += 1;
        lines.push({ kind: 'removed', text, old: oldLine++ });
      } else {
        lines.push({ kind: 'context', text, old: oldLine++, new: newLine++ });
      }
    }
    return {
      oldStart: hunk.oldStart,
      oldLines: hunk.oldLines,
      newStart: hunk.newStart,
      newLines: hunk.newLines,
      lines,
    };
  });
  return { comparable: true, added, removed, hunks };
}
