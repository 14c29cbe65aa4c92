import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { diffFiles, type FileChange, mergeFileChanges } from './file-delta.js';

/** A snapshot as path → content id, over a small alphabet so paths collide across snapshots. */
const snapshot = fc
  .dictionary(
    fc.constantFrom('a.yaml', 'b.json', 'c/d.toml', 'e.txt', 'f.ini'),
    fc.constantFrom('1', '2', '3'),
  )
  .map((record) => new Map(Object.entries(record)));

/** Changes with values, as a client delivers them: the value is the content id, for checking. */
function changes(before: Map<string, string>, after: Map<string, string>): FileChange[] {
  return diffFiles(before, after).map((delta) => ({
    ...delta,
    value: delta.contentId,
    previousValue: delta.previousContentId,
  }));
}

function apply(before: Map<string, string>, list: readonly FileChange[]): Map<string, string> {
  const after = new Map(before);
  for (const change of list) {
    if (change.contentId === undefined) after.delete(change.file);
    else after.set(change.file, change.contentId);
  }
  return after;
}

describe('diffFiles', () => {
  it('names added, modified and removed files, sorted, and nothing else', () => {
    const before = new Map([
      ['a.yaml', '1'],
      ['b.json', '1'],
      ['c.toml', '1'],
    ]);
    const after = new Map([
      ['b.json', '2'],
      ['c.toml', '1'],
      ['0.txt', '1'],
    ]);
    expect(diffFiles(before, after)).toEqual([
      { file: '0.txt', kind: 'added', contentId: '1', previousContentId: undefined },
      { file: 'a.yaml', kind: 'removed', contentId: undefined, previousContentId: '1' },
      { file: 'b.json', kind: 'modified', contentId: '2', previousContentId: '1' },
    ]);
  });

  it('turns any snapshot into any other when applied, and is empty between equal ones', () => {
    fc.assert(
      fc.property(snapshot, snapshot, (before, after) => {
        expect(apply(before, changes(before, after))).toEqual(after);
        expect(diffFiles(after, after)).toEqual([]);
        for (const delta of diffFiles(before, after))
          expect(before.get(delta.file)).not.toBe(after.get(delta.file));
      }),
    );
  });
});

describe('mergeFileChanges', () => {
  it('merges two consecutive changes into the change from the first snapshot to the last', () => {
    fc.assert(
      fc.property(snapshot, snapshot, snapshot, (a, b, c) => {
        expect(mergeFileChanges(changes(a, b), changes(b, c))).toEqual(changes(a, c));
      }),
    );
  });

  it('drops a file that changed and changed back, and keeps the oldest previous value', () => {
    const a = new Map([['x.yaml', '1']]);
    const b = new Map([['x.yaml', '2']]);
    expect(mergeFileChanges(changes(a, b), changes(b, a))).toEqual([]);
    const c = new Map([['x.yaml', '3']]);
    expect(mergeFileChanges(changes(a, b), changes(b, c))).toEqual([
      {
        file: 'x.yaml',
        kind: 'modified',
        contentId: '3',
        previousContentId: '1',
        value: '3',
        previousValue: '1',
      },
    ]);
  });
});
