import { expect, it } from 'vitest';
import * as bot from './index.js';

// The bot's public surface is a contract: change it on purpose.
it('exports exactly the bot API', () => {
  expect(Object.keys(bot).sort()).toEqual([
    'APPLIED_CHECK_PREFIX',
    'APPROVALS_CHECK',
    'APPROVAL_RECORD_CHECK',
    'APPROVAL_RECORD_FORMAT',
    'AppliedChecks',
    'BlobMismatchError',
    'BotMetrics',
    'DEFAULT_APPLIED_DEADLINE_MS',
    'DEFAULT_BOT_SETTINGS',
    'DEFAULT_NOTES_REF',
    'GitHub',
    'GitHubDeployments',
    'GitHubError',
    'InvalidSettingsError',
    'PLAN_MARKER',
    'RepoReader',
    'TreeTruncatedError',
    'VALIDATE_CHECK',
    'applicableRules',
    'appliedCheckName',
    'buildApprovalRecord',
    'buildPlan',
    'cairnApp',
    'createCairnApp',
    'deploymentStatusOf',
    'evaluateAppliedChecks',
    'evaluatePolicy',
    'parseCairnCommand',
    'readBotSettings',
    'renderPlanComment',
    'serializeApprovalRecord',
    'startBot',
    'tallyReviews',
  ]);
});
