/** A short unified diff of two texts, as a reviewer reads it in a comment. */
export interface TextDiff {
  /** Hunk headers and lines, without the `---`/`+++` file header. */
  readonly lines: readonly string[];
  /** Diff lines left out to stay within `maxLines`. */
  readonly omitted: number;
  readonly added: number;
  readonly removed: number;
}

interface Edit {
  readonly op: ' ' | '-' | '+';
  readonly text: string;
}

/** Above this many cells the middle of a change is shown as removed-then-added instead of aligned. */
const MAX_ALIGNMENT_CELLS = 1_000_000;

export function unifiedDiff(
  before: string,
  after: string,
  options: { context?: number; maxLines?: number } = {},
): TextDiff {
  const context = options.context ?? 3;
  const maxLines = options.maxLines ?? 20;
  const edits = lineEdits(splitLines(before), splitLines(after));
  const added = edits.filter((e) => e.op === '+').length;
  const removed = edits.filter((e) => e.op === '-').length;

  const lines: string[] = [];
  let i = 0;
  while (i < edits.length) {
    if (edits[i]?.op === ' ') {
      i++;
      continue;
    }
    // A hunk: context before, changes joined while fewer than 2×context unchanged lines separate them.
    const start = Math.max(0, i - context);
    let end = i;
    while (end < edits.length) {
      let next = end;
      while (next < edits.length && edits[next]?.op === ' ') next++;
      if (next === edits.length || next - end > 2 * context) break;
      while (next < edits.length && edits[next]?.op !== ' ') next++;
      end = next;
    }
    const stop = Math.min(edits.length, end + context);
    let aStart = 1;
    let bStart = 1;
    for (let k = 0; k < start; k++) {
      if (edits[k]?.op !== '+') aStart++;
      if (edits[k]?.op !== '-') bStart++;
    }
    const hunk = edits.slice(start, stop);
    const aCount = hunk.filter((e) => e.op !== '+').length;
    const bCount = hunk.filter((e) => e.op !== '-').length;
    lines.push(
      `@@ -${aCount === 0 ? aStart - 1 : aStart},${aCount} +${bCount === 0 ? bStart - 1 : bStart},${bCount} @@`,
    );
    for (const edit of hunk) lines.push(`${edit.op}${edit.text}`);
    i = stop;
  }
  const shown = lines.slice(0, maxLines);
  return { lines: shown, omitted: lines.length - shown.length, added, removed };
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Edits that turn `a` into `b`: common prefix and suffix kept, the middle aligned by longest common subsequence. */
function lineEdits(a: readonly string[], b: readonly string[]): Edit[] {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  )
    suffix++;
  const edits: Edit[] = a.slice(0, prefix).map((text) => ({ op: ' ', text }));
  const midA = a.slice(prefix, a.length - suffix);
  const midB = b.slice(prefix, b.length - suffix);
  edits.push(...alignMiddle(midA, midB));
  for (const text of a.slice(a.length - suffix)) edits.push({ op: ' ', text });
  return edits;
}

function alignMiddle(a: readonly string[], b: readonly string[]): Edit[] {
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > MAX_ALIGNMENT_CELLS) {
    return [...a.map((text): Edit => ({ op: '-', text })), ...b.map((text): Edit => ({ op: '+', text }))];
  }
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? (lcs[(i + 1) * width + j + 1] as number) + 1
          : Math.max(lcs[(i + 1) * width + j] as number, lcs[i * width + j + 1] as number);
    }
  }
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      edits.push({ op: ' ', text: a[i] as string });
      i++;
      j++;
    } else if ((lcs[(i + 1) * width + j] as number) >= (lcs[i * width + j + 1] as number)) {
      edits.push({ op: '-', text: a[i++] as string });
    } else edits.push({ op: '+', text: b[j++] as string });
  }
  while (i < n) edits.push({ op: '-', text: a[i++] as string });
  while (j < m) edits.push({ op: '+', text: b[j++] as string });
  return edits;
}
