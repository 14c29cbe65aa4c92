import type { ApplicationFunction, Context, Probot } from 'probot';
import { GitObjectCache } from './git-object-cache.js';
import { type PullRequestShape, toPullRequest } from './github.js';
import { runApprovalsCheck } from './handlers/approvals.js';
import { recordMergeApprovals } from './handlers/merge-record.js';
import { updatePlanComment } from './handlers/plan.js';
import { runValidateCheck } from './handlers/validate.js';
import { APPROVALS_CHECK, VALIDATE_CHECK } from './names.js';
import { type BotSession, openSession } from './session.js';
import { type BotSettings, readBotSettings } from './settings.js';

/** A pull request's head or base moved: validate, plan and approvals all start over. */
const PULL_REQUEST_UPDATED = [
  'pull_request.opened',
  'pull_request.reopened',
  'pull_request.synchronize',
] as const;
/** Someone approved, asked for changes, or a review was dismissed. */
const REVIEW_CHANGED = [
  'pull_request_review.submitted',
  'pull_request_review.edited',
  'pull_request_review.dismissed',
] as const;

export interface CairnAppOptions {
  /** Defaults to the CAIRN_* environment variables (see bot/README.md). */
  readonly settings?: BotSettings;
}

/**
 * The Cairn GitHub App: which webhook events lead to which handler, and nothing else. Events not
 * listed here are acknowledged and ignored; Probot has verified each delivery's signature before.
 */
export function createCairnApp(options: CairnAppOptions = {}): ApplicationFunction {
  return (app: Probot) => {
    const settings = options.settings ?? readBotSettings(process.env);
    const cache = new GitObjectCache(settings.blobCacheBytes);
    const sessionOf = (context: Context): BotSession =>
      openSession(context.octokit, context.repo(), context.log, settings, cache);
    const pullRequestOf = (context: { payload: { pull_request: unknown } }) =>
      toPullRequest(context.payload.pull_request as PullRequestShape);

    app.on([...PULL_REQUEST_UPDATED], (context) =>
      runValidateCheck(sessionOf(context), pullRequestOf(context)),
    );
    app.on([...PULL_REQUEST_UPDATED], (context) =>
      updatePlanComment(sessionOf(context), pullRequestOf(context)),
    );
    app.on([...PULL_REQUEST_UPDATED, ...REVIEW_CHANGED], (context) =>
      runApprovalsCheck(sessionOf(context), pullRequestOf(context)),
    );
    // A new base branch means another policy and another plan.
    app.on('pull_request.edited', async (context) => {
      if (!context.payload.changes.base) return;
      const session = sessionOf(context);
      const pr = pullRequestOf(context);
      await Promise.all([runApprovalsCheck(session, pr), updatePlanComment(session, pr)]);
    });
    app.on('pull_request.closed', (context) =>
      recordMergeApprovals(sessionOf(context), pullRequestOf(context)),
    );
    // "Re-run" on one of the bot's checks (GitHub sends this only to the app that made the run).
    app.on('check_run.rerequested', async (context) => {
      const run = context.payload.check_run;
      if (run.name !== VALIDATE_CHECK && run.name !== APPROVALS_CHECK) return;
      const session = sessionOf(context);
      for (const { number } of run.pull_requests) {
        const pr = await session.github.getPullRequest(number);
        if (pr.state !== 'open' || pr.headSha !== run.head_sha) continue;
        await (run.name === VALIDATE_CHECK ? runValidateCheck(session, pr) : runApprovalsCheck(session, pr));
      }
    });
  };
}

/** The app with its settings from the environment: what `probot run` and bot/main.ts load. */
export const cairnApp: ApplicationFunction = createCairnApp();
