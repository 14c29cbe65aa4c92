import { describe, expect, it } from 'vitest';
import { lineDiff } from './line-diff.js';

describe('a file compared line by line', () => {
  it('numbers each line in its own file, with three lines of context around a change', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', ''].join('\n');
    const after = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h', 'i', ''].join('\n');
    expect(lineDiff(before, after)).toEqual({
      comparable: true,
      added: 2,
      removed: 1,
      hunks: [
        {
          oldStart: 2,
          oldLines: 7,
          newStart: 2,
          newLines: 8,
          lines: [
            { kind: 'context', text: 'b', old: 2, new: 2 },
            { kind: 'context', text: 'c', old: 3, new: 3 },
            { kind: 'context', text: 'd', old: 4, new: 4 },
            { kind: 'removed', text: 'e', old: 5 },
            { kind: 'added', text: 'E', new: 5 },
            { kind: 'context', text: 'f', old: 6, new: 6 },
            { kind: 'context', text: 'g', old: 7, new: 7 },
            { kind: 'context', text: 'h', old: 8, new: 8 },
            { kind: 'added', text: 'i', new: 9 },
          ],
        },
      ],
    });
  });

  it('makes one hunk per distant change, and none for equal texts', () => {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
    const changed = lines.map((line, i) => (i === 2 || i === 35 ? `${line} changed` : line));
    const diff = lineDiff(`${lines.join('\n')}\n`, `${changed.join('\n')}\n`);
    expect(diff.comparable && diff.hunks.map((h) => [h.oldStart, h.newStart])).toEqual([
      [1, 1],
      [33, 33],
    ]);
    expect(lineDiff('same\n', 'same\n')).toEqual({ comparable: true, added: 0, removed: 0, hunks: [] });
  });

  it('says which line ends the file without a newline, so a change of the last newline shows', () => {
    const diff = lineDiff('a\nb\n', 'a\nb');
    expect(diff.comparable && diff.hunks[0]?.lines).toEqual([
      { kind: 'context', text: 'a', old: 1, new: 1 },
      { kind: 'removed', text: 'b', old: 2 },
      { kind: 'added', text: 'b', new: 2, noNewlineAtEnd: true },
    ]);
  });

  it('keeps markup as text: lines are data, never HTML', () => {
    const diff = lineDiff('x: 1\n', 'x: "<script>alert(1)</script>"\n');
    expect(diff.comparable && diff.hunks[0]?.lines.map((l) => l.text)).toEqual([
      'x: 1',
      'x: "<script>alert(1)</script>"',
    ]);
  });
});
