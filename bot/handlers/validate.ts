import { compareDiagnostics } from '../../core/index.js';
import { validateRepo } from '../../schemas/index.js';
import { annotationsOf } from '../checks/annotations.js';
import { completeCheckRun } from '../checks/complete-check-run.js';
import { failCheckRun } from '../checks/fail-check-run.js';
import { renderValidationReport } from '../checks/validation-report.js';
import { TreeTruncatedError } from '../errors.js';
import type { PullRequest } from '../github.js';
import { VALIDATE_CHECK } from '../names.js';
import { destructiveMergeDiagnostics } from '../plan/build-plan.js';
import type { BotSession } from '../session.js';

/**
 * The "cairn / validate" check: the tree at the pull request's head, read through the API, through the
 * same validator as `cairn validate`, with every finding annotated at its file and line; and, for a
 * valid head, the syncer's destructive-change guard against the base (what the plan comment shows).
 */
export async function runValidateCheck(session: BotSession, pr: PullRequest): Promise<void> {
  const { github, reader, log } = session;
  const checkRunId = await github.createCheckRun({
    name: VALIDATE_CHECK,
    headSha: pr.headSha,
    externalId: VALIDATE_CHECK,
    status: 'in_progress',
    output: { title: 'Validating', summary: `Reading the configuration at \`${pr.headSha.slice(0, 7)}\`.` },
  });
  try {
    const snapshot = await reader.snapshot(pr.headSha);
    const validation = validateRepo(snapshot.tree);
    const findings = [...validation.diagnostics, ...snapshot.problems];
    // A valid head the syncer would still refuse: a merge that empties an environment, say.
    if (!findings.some((d) => d.severity === 'error')) {
      const base = validateRepo((await reader.snapshot(pr.baseSha)).tree);
      findings.push(...destructiveMergeDiagnostics(base.repo, validation.repo, pr.baseRef));
    }
    const diagnostics = findings.sort(compareDiagnostics);
    const paths = new Set([...snapshot.tree.keys(), ...snapshot.problems.map((d) => d.file)]);
    const { annotations, unattached } = annotationsOf(diagnostics, paths);
    const report = renderValidationReport({
      headSha: pr.headSha,
      diagnostics,
      unattached,
      files: snapshot.tree.size,
      services: validation.repo.services.size,
      fork: pr.fromFork ? (pr.headRepo ?? 'a fork that was deleted since') : undefined,
    });
    await completeCheckRun(github, checkRunId, report.conclusion, report, annotations);
    log.info(
      { pr: pr.number, headSha: pr.headSha, conclusion: report.conclusion, findings: diagnostics.length },
      'validated the pull request head',
    );
  } catch (error) {
    if (error instanceof TreeTruncatedError) {
      await failCheckRun(github, checkRunId, 'Repository too large to check', error);
      log.warn({ pr: pr.number, headSha: pr.headSha, err: error }, 'tree listing truncated');
      return;
    }
    await failCheckRun(github, checkRunId, 'Cairn could not check this commit', error);
    throw error;
  }
}
