// The public surface of bot/: every exported name is listed here on purpose.
export type { CairnAppOptions } from './app.js';
export { cairnApp, createCairnApp } from './app.js';
export type { AppliedChecksOptions } from './applied/applied-checks.js';
export { AppliedChecks } from './applied/applied-checks.js';
export type {
  AppliedCheck,
  AppliedConclusion,
  AppliedInput,
  AppliedVerdict,
  Participant,
  ServiceApply,
} from './applied/evaluate-applied.js';
export { evaluateAppliedChecks } from './applied/evaluate-applied.js';
export type { CairnCommand, CommentAction } from './deployments/cairn-command.js';
export { parseCairnCommand } from './deployments/cairn-command.js';
export type { DeploymentStatusUpdate, GitHubDeploymentState } from './deployments/deployment-status.js';
export { deploymentStatusOf } from './deployments/deployment-status.js';
export type { GitHubDeploymentsOptions } from './deployments/github-deployments.js';
export { GitHubDeployments } from './deployments/github-deployments.js';
export type { BotZooKeeper } from './deployments/start-deployments.js';
export type { GitHubErrorCode } from './errors.js';
export { BlobMismatchError, GitHubError, InvalidSettingsError, TreeTruncatedError } from './errors.js';
export type {
  ChangedFile,
  CheckRunAnnotation,
  CheckRunOutput,
  PullRequest,
  RepoCoordinates,
  Review,
  TreeEntry,
  TreeListing,
} from './github.js';
export { GitHub } from './github.js';
export type { DeliveryOutcome } from './metrics.js';
export { BotMetrics } from './metrics.js';
export {
  APPLIED_CHECK_PREFIX,
  APPROVAL_RECORD_CHECK,
  APPROVALS_CHECK,
  appliedCheckName,
  DEFAULT_NOTES_REF,
  PLAN_MARKER,
  VALIDATE_CHECK,
} from './names.js';
export type { Plan } from './plan/build-plan.js';
export { buildPlan } from './plan/build-plan.js';
export { renderPlanComment } from './plan/render.js';
export type { ApplicableRule, PolicyEvaluation, RequirementOutcome, RuleOutcome } from './policy/evaluate.js';
export { applicableRules, evaluatePolicy } from './policy/evaluate.js';
export type { Approval, ReviewTally, SetAsideReview } from './policy/tally-reviews.js';
export { tallyReviews } from './policy/tally-reviews.js';
export type { ApprovalRecord, RecordedApproval, RecordedRule } from './record/approval-record.js';
export {
  APPROVAL_RECORD_FORMAT,
  buildApprovalRecord,
  serializeApprovalRecord,
} from './record/approval-record.js';
export type { RepoSnapshot } from './repo-reader.js';
export { RepoReader } from './repo-reader.js';
export type { AppliedChecksSettings, BotSettings } from './settings.js';
export { DEFAULT_APPLIED_DEADLINE_MS, DEFAULT_BOT_SETTINGS, readBotSettings } from './settings.js';
export type { BotStartOptions, RunningBot } from './start-bot.js';
export { startBot } from './start-bot.js';
