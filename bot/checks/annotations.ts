import type { Diagnostic } from '../../core/index.js';
import type { CheckRunAnnotation } from '../github.js';

/** The Checks API takes at most 50 annotations per request; more need further updates of the run. */
export const ANNOTATIONS_PER_REQUEST = 50;

/** GitHub's limits on an annotation's title and message. */
const TITLE_LIMIT = 255;
const MESSAGE_LIMIT = 64 * 1024 - 1;

export interface AnnotationPlan {
  readonly annotations: readonly CheckRunAnnotation[];
  /** Findings about files that are not in the commit (a deleted `cairn.yaml`): shown in the summary. */
  readonly unattached: readonly Diagnostic[];
}

/**
 * Turns diagnostics into annotations at file, line and column. A finding can only be attached to a
 * file of the commit; the others are returned apart so the summary can list them.
 */
export function annotationsOf(
  diagnostics: readonly Diagnostic[],
  paths: ReadonlySet<string>,
): AnnotationPlan {
  const annotations: CheckRunAnnotation[] = [];
  const unattached: Diagnostic[] = [];
  for (const d of diagnostics) {
    if (!paths.has(d.file)) {
      unattached.push(d);
      continue;
    }
    annotations.push({
      path: d.file,
      start_line: d.line,
      end_line: d.line,
      start_column: d.column,
      end_column: d.column,
      annotation_level: d.severity === 'error' ? 'failure' : 'warning',
      title: d.rule.slice(0, TITLE_LIMIT),
      message: d.message.slice(0, MESSAGE_LIMIT),
    });
  }
  return { annotations, unattached };
}

/** Splits a list into consecutive batches of at most `size`. */
export function batchesOf<T>(items: readonly T[], size: number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  return batches;
}
