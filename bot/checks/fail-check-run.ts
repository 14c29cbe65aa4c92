import { CairnError } from '../../core/index.js';
import type { GitHub } from '../github.js';

/**
 * Concludes a run that could not do its work, with the reason and what to do, so a pull request never
 * shows a check spinning forever. Returns whether the run could be updated; the caller still rethrows
 * unexpected errors so they are logged with the delivery.
 */
export async function failCheckRun(
  github: GitHub,
  checkRunId: number,
  title: string,
  error: unknown,
): Promise<boolean> {
  const reason = error instanceof Error ? error.message : String(error);
  const code = error instanceof CairnError ? ` (${error.code})` : '';
  try {
    await github.updateCheckRun(checkRunId, {
      conclusion: 'failure',
      output: {
        title,
        summary: `${reason}${code}\n\nPress "Re-run" once the cause is fixed.`,
      },
    });
    return true;
  } catch {
    // GitHub itself is failing; the original error is what the caller reports.
    return false;
  }
}
