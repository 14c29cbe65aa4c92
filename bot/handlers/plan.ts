import { validateRepo } from '../../schemas/index.js';
import { TreeTruncatedError } from '../errors.js';
import type { PullRequest } from '../github.js';
import { PLAN_MARKER } from '../names.js';
import { buildPlan } from '../plan/build-plan.js';
import { renderPlanComment } from '../plan/render.js';
import type { BotSession } from '../session.js';

/**
 * The sticky plan comment: one comment per pull request, found again by its hidden marker and its
 * author (the app's own bot account) and edited in place on every push, saying what merging would
 * change in ZooKeeper.
 */
export async function updatePlanComment(session: BotSession, pr: PullRequest): Promise<void> {
  const { github, reader, log } = session;
  const fork = pr.fromFork ? (pr.headRepo ?? 'a fork that was deleted since') : undefined;
  let body: string;
  try {
    const [head, base] = await Promise.all([reader.snapshot(pr.headSha), reader.snapshot(pr.baseSha)]);
    const headValidation = validateRepo(head.tree);
    const baseValidation = validateRepo(base.tree);
    const errorsIn = (diagnostics: readonly { severity: string }[]) =>
      diagnostics.filter((d) => d.severity === 'error').length;
    const headErrors = errorsIn(headValidation.diagnostics) + errorsIn(head.problems);
    body = renderPlanComment({
      headSha: pr.headSha,
      baseSha: pr.baseSha,
      baseRef: pr.baseRef,
      headErrors,
      baseErrors: errorsIn(baseValidation.diagnostics) + errorsIn(base.problems),
      fork,
      ...(headErrors === 0 ? { plan: buildPlan(baseValidation.repo, headValidation.repo, pr.baseRef) } : {}),
    });
  } catch (error) {
    if (!(error instanceof TreeTruncatedError)) throw error;
    body = `${PLAN_MARKER}\n### Cairn plan\n\n**No plan**: ${error.message}.`;
  }

  const botLogin = await session.botLogin();
  // Deliveries for one pull request write its comment one at a time: two that arrive together (after
  // a quick push) would otherwise both find no comment and both create one.
  await session.exclusive(`${pr.number}`, async () => {
    // Two pushes in quick succession are handled concurrently: never let the older head's plan win.
    const current = await github.getPullRequest(pr.number);
    if (current.headSha !== pr.headSha) {
      log.info(
        { pr: pr.number, headSha: pr.headSha, newHead: current.headSha },
        'plan is for an old head; dropped',
      );
      return;
    }
    const comments = await github.listIssueComments(pr.number);
    // Ours alone: another app's comment may quote the marker too.
    const existing = comments.find(
      (comment) =>
        comment.author.toLowerCase() === botLogin.toLowerCase() && comment.body.startsWith(PLAN_MARKER),
    );
    if (!existing) await github.createIssueComment(pr.number, body);
    else if (existing.body !== body) await github.updateIssueComment(existing.id, body);
    log.info(
      { pr: pr.number, headSha: pr.headSha, updated: existing?.body !== body },
      'plan comment is current',
    );
  });
}
