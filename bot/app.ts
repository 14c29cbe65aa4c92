import type { ApplicationFunction, Context, Probot } from 'probot';
import { AppIdentity } from './app-identity.js';
import { DeliveryRouter, runConcerns, type WebhookEventName } from './deliveries.js';
import type { BotZooKeeper } from './deployments/start-deployments.js';
import { GitObjectCache } from './git-object-cache.js';
import { type PullRequestShape, toPullRequest } from './github.js';
import { runApprovalsCheck } from './handlers/approvals.js';
import { steerFromComment } from './handlers/deployment-comment.js';
import { recordMergeApprovals } from './handlers/merge-record.js';
import { updatePlanComment } from './handlers/plan.js';
import { runValidateCheck } from './handlers/validate.js';
import { BotMetrics } from './metrics.js';
import { APPROVALS_CHECK, VALIDATE_CHECK } from './names.js';
import { createOperationsHandler } from './operations-handler.js';
import { PerKeyQueue } from './per-key-queue.js';
import { type BotSession, openSession } from './session.js';
import { type BotSettings, readBotSettings } from './settings.js';

/** A pull request's head or base moved: validate, plan and approvals all start over. */
const PULL_REQUEST_UPDATED = [
  'pull_request.opened',
  'pull_request.reopened',
  'pull_request.synchronize',
] as const satisfies readonly WebhookEventName[];
/** Someone approved, asked for changes, or a review was dismissed. */
const REVIEW_CHANGED = [
  'pull_request_review.submitted',
  'pull_request_review.edited',
  'pull_request_review.dismissed',
] as const satisfies readonly WebhookEventName[];

export interface CairnAppOptions {
  /** Defaults to the CAIRN_* environment variables (see bot/README.md). */
  readonly settings?: BotSettings;
  /** Defaults to new metrics, process metrics included, for this app alone. */
  readonly metrics?: BotMetrics;
  /**
   * The syncer's ZooKeeper, where `/cairn pause|resume|abort` comments are recorded as control
   * actions; without it such a comment is answered with what to do instead.
   */
  readonly zookeeper?: BotZooKeeper;
}

/**
 * The Cairn GitHub App: which webhook events lead to which handler, and nothing else. Events not
 * listed here are acknowledged and ignored; Probot has verified each delivery's signature before.
 * Where Probot runs a server, the app adds GET /healthz and GET /metrics to it.
 */
export function createCairnApp(options: CairnAppOptions = {}): ApplicationFunction {
  return (app: Probot, { addHandler }) => {
    const settings = options.settings ?? readBotSettings(process.env);
    const metrics = options.metrics ?? new BotMetrics();
    const shared = {
      settings,
      cache: new GitObjectCache(settings.blobCacheBytes),
      identity: new AppIdentity(app),
      queue: new PerKeyQueue(),
      observer: metrics,
    };
    const sessionOf = (context: Context): BotSession =>
      openSession(context.octokit, context.repo(), context.log, shared);
    const pullRequestOf = (context: { payload: { pull_request: unknown } }) =>
      toPullRequest(context.payload.pull_request as PullRequestShape);
    const deliveries = new DeliveryRouter(app, metrics);

    deliveries.on(PULL_REQUEST_UPDATED, (context) => {
      const session = sessionOf(context);
      const pr = pullRequestOf(context);
      return runConcerns([
        runValidateCheck(session, pr),
        updatePlanComment(session, pr),
        runApprovalsCheck(session, pr),
      ]);
    });
    deliveries.on(REVIEW_CHANGED, (context) => runApprovalsCheck(sessionOf(context), pullRequestOf(context)));
    // A new base branch means another policy and another plan.
    deliveries.on(['pull_request.edited'], async (context) => {
      if (!context.payload.changes.base) return 'ignored';
      const session = sessionOf(context);
      const pr = pullRequestOf(context);
      await runConcerns([runApprovalsCheck(session, pr), updatePlanComment(session, pr)]);
    });
    deliveries.on(['pull_request.closed'], (context) =>
      recordMergeApprovals(sessionOf(context), pullRequestOf(context)),
    );
    // `/cairn pause|resume|abort` on a release's pull request; an edited or deleted comment acts on nothing.
    deliveries.on(['issue_comment.created'], (context) =>
      steerFromComment(sessionOf(context), options.zookeeper, context.payload),
    );
    // "Re-run" on one of the bot's checks (GitHub sends this only to the app that made the run).
    deliveries.on(['check_run.rerequested'], async (context) => {
      const run = context.payload.check_run;
      if (run.name !== VALIDATE_CHECK && run.name !== APPROVALS_CHECK) return 'ignored';
      const session = sessionOf(context);
      for (const { number } of run.pull_requests) {
        const pr = await session.github.getPullRequest(number);
        if (pr.state !== 'open' || pr.headSha !== run.head_sha) continue;
        await (run.name === VALIDATE_CHECK ? runValidateCheck(session, pr) : runApprovalsCheck(session, pr));
      }
    });

    try {
      addHandler(createOperationsHandler(metrics));
    } catch (error) {
      // Probot's load() without a server (a test's probot.receive(), a serverless function) has no
      // routes to add to; webhooks are all there is then.
      app.log.debug({ err: error }, 'no server to serve /healthz and /metrics on');
    }
  };
}

/** The app with its settings from the environment, for Probot's own runners (`probot run`, a serverless handler). */
export const cairnApp: ApplicationFunction = createCairnApp();
