import { describe, expect, it } from 'vitest';
import { diagnostic } from '../../core/index.js';
import { annotationsOf, batchesOf } from './annotations.js';

describe('annotationsOf', () => {
  it('points each finding at its file, line and column, errors as failures', () => {
    const found = [
      diagnostic(
        'services/a/service.yaml',
        { line: 7, column: 7 },
        'error',
        'schema/maximum',
        'port: must be <= 65535',
      ),
      diagnostic(
        'policy.yaml',
        { line: 41, column: 13 },
        'warning',
        'policy/unmatched-glob',
        'matches no file',
      ),
    ];
    expect(annotationsOf(found, new Set(['services/a/service.yaml', 'policy.yaml'])).annotations).toEqual([
      {
        path: 'services/a/service.yaml',
        start_line: 7,
        end_line: 7,
        start_column: 7,
        end_column: 7,
        annotation_level: 'failure',
        title: 'schema/maximum',
        message: 'port: must be <= 65535',
      },
      expect.objectContaining({ path: 'policy.yaml', start_line: 41, annotation_level: 'warning' }),
    ]);
  });

  it('keeps findings about files missing from the commit apart', () => {
    const missing = diagnostic(
      'cairn.yaml',
      { line: 1, column: 1 },
      'error',
      'repo/missing-settings',
      'cairn.yaml is missing',
    );
    expect(annotationsOf([missing], new Set(['policy.yaml']))).toEqual({
      annotations: [],
      unattached: [missing],
    });
  });
});

describe('batchesOf', () => {
  it('splits into batches of at most the given size', () => {
    expect(batchesOf([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(batchesOf([], 50)).toEqual([]);
  });
});
