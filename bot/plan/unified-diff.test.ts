import { describe, expect, it } from 'vitest';
import { unifiedDiff } from './unified-diff.js';

describe('unifiedDiff', () => {
  it('shows a change with three lines of context', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    const after = 'a\nb\nc\nd\nE\nf\ng\nh\n';
    expect(unifiedDiff(before, after)).toEqual({
      lines: ['@@ -2,7 +2,7 @@', ' b', ' c', ' d', '-e', '+E', ' f', ' g', ' h'],
      omitted: 0,
      added: 1,
      removed: 1,
    });
  });

  it('joins nearby changes into one hunk and keeps distant ones apart', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `line ${i + 1}`);
    const changed = [...lines];
    changed[2] = 'three';
    changed[5] = 'six';
    changed[25] = 'twenty-six';
    const diff = unifiedDiff(`${lines.join('\n')}\n`, `${changed.join('\n')}\n`, { maxLines: 100 });
    expect(diff.lines.filter((l) => l.startsWith('@@'))).toEqual(['@@ -1,9 +1,9 @@', '@@ -23,7 +23,7 @@']);
  });

  it('shows an added file as added lines', () => {
    expect(unifiedDiff('', 'x=1\ny=2\n').lines).toEqual(['@@ -0,0 +1,2 @@', '+x=1', '+y=2']);
  });

  it('stops after maxLines and counts what it left out', () => {
    const after = Array.from({ length: 50 }, (_, i) => `k${i}=v`).join('\n');
    const diff = unifiedDiff('', after, { maxLines: 20 });
    expect(diff.lines).toHaveLength(20);
    expect(diff.omitted).toBe(31);
  });

  it('is empty for equal texts', () => {
    expect(unifiedDiff('same\n', 'same\n').lines).toEqual([]);
  });
});
