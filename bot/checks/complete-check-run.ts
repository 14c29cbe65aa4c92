import type { CheckConclusion, CheckRunAnnotation, CheckRunOutput, GitHub } from '../github.js';
import { ANNOTATIONS_PER_REQUEST, batchesOf } from './annotations.js';

/**
 * Completes a check run with every annotation, 50 per request as GitHub requires: all batches but
 * the last while the run is still in progress (GitHub appends each batch), then the last batch
 * together with the conclusion, so a reader never sees a concluded run with annotations missing.
 */
export async function completeCheckRun(
  github: GitHub,
  checkRunId: number,
  conclusion: CheckConclusion,
  output: Omit<CheckRunOutput, 'annotations'>,
  annotations: readonly CheckRunAnnotation[],
): Promise<void> {
  const batches = batchesOf(annotations, ANNOTATIONS_PER_REQUEST);
  const last = batches.pop() ?? [];
  for (const batch of batches) {
    await github.updateCheckRun(checkRunId, {
      status: 'in_progress',
      output: { ...output, annotations: batch },
    });
  }
  await github.updateCheckRun(checkRunId, {
    conclusion,
    output: { ...output, ...(last.length > 0 ? { annotations: last } : {}) },
  });
}
