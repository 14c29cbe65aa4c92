import { CairnError } from '../../core/errors.js';

/**
 * How large a commit's tree the syncer reads: counted as the tree is listed, before any file is
 * read, so a tree built to exhaust the syncer (100,000s of files, folders nested 10,000 deep) is
 * refused in bounded time and memory.
 */
export interface TreeLimits {
  /** Regular files in the whole tree. */
  readonly maxFiles: number;
  /** Segments of a path: `services/api/config/app.yaml` has 4. */
  readonly maxPathDepth: number;
}

/** Twice the largest repository benchmarked (100,000 files); far deeper than any layout needs. */
export const DEFAULT_TREE_LIMITS: TreeLimits = { maxFiles: 200_000, maxPathDepth: 64 };

/** Segments shown of a path over the depth limit: its whole text could be 20 kB. */
const SHOWN_SEGMENTS = 8;

/**
 * A commit's tree is over a TreeLimits bound. Terminal, like an unsafe entry: the same commit never
 * gets smaller, only a later one can.
 */
export class TreeLimitError extends CairnError {
  /** Where: the first file over the count, or the folder too deep (its first segments). */
  readonly path: string;
  readonly rule: 'tree/too-many-files' | 'tree/too-deep';

  constructor(kind: 'files' | 'depth', path: string, limit: number) {
    const shown =
      kind === 'depth' ? `${path.split('/').slice(0, SHOWN_SEGMENTS).join('/')}/… (${limit}+ levels)` : path;
    super(
      'TREE_LIMIT_EXCEEDED',
      kind === 'files'
        ? `the commit holds more than ${limit} files (the syncer's --max-files): nothing of it was read; remove files in a new commit, or raise the limit`
        : `the commit nests folders more than ${limit} levels deep (the syncer's --max-path-depth), at ${shown}: nothing of it was read; flatten it in a new commit`,
    );
    this.path = shown;
    this.rule = kind === 'files' ? 'tree/too-many-files' : 'tree/too-deep';
  }
}

/** The number of segments of a `/`-separated path, counted without splitting it. */
export function pathDepth(path: string): number {
  let depth = 1;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) depth++;
  return depth;
}
