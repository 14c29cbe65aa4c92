import { describe, expect, it } from 'vitest';
import type { TreeListing } from '../github.js';
import { changedPathsBetween, fileListIsIncomplete, pathsOfChangedFiles } from './changed-paths.js';

const listing = (entries: [string, string][]): TreeListing => ({
  sha: 't',
  truncated: false,
  entries: entries.map(([path, sha]) => ({ path, sha, mode: '100644', type: 'blob' as const })),
});

describe('changed paths', () => {
  it('counts the old name of a renamed file as changed too', () => {
    expect(pathsOfChangedFiles([{ path: 'b.yaml', previousPath: 'a.yaml', status: 'renamed' }])).toEqual([
      'a.yaml',
      'b.yaml',
    ]);
  });

  it('distrusts a list of 3,000 files, or fewer than GitHub counted', () => {
    expect(fileListIsIncomplete(3000, 3000)).toBe(true);
    expect(fileListIsIncomplete(12, 13)).toBe(true);
    expect(fileListIsIncomplete(12, 12)).toBe(false);
  });

  it('compares two listings by content id', () => {
    const base = listing([
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
    const head = listing([
      ['a', '1'],
      ['b', '9'],
      ['d', '4'],
    ]);
    expect(changedPathsBetween(base, head)).toEqual(['b', 'c', 'd']);
  });
});
