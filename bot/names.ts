/** The names GitHub shows for the bot's checks; branch protection rules refer to them. */
export const VALIDATE_CHECK = 'cairn / validate';
export const APPROVALS_CHECK = 'cairn / approvals';
/** On the merge commit: what the approvals were when the pull request merged. */
export const APPROVAL_RECORD_CHECK = 'cairn / approval record';

/**
 * On the commit each environment serves, for every environment a mirrored commit changed: whether
 * every host and instance there applied it. One check per environment, named by it.
 */
export const APPLIED_CHECK_PREFIX = 'cairn / applied';

export function appliedCheckName(env: string): string {
  return `${APPLIED_CHECK_PREFIX} (${env})`;
}

/** Hidden marker that identifies the bot's sticky plan comment among a pull request's comments. */
export const PLAN_MARKER = '<!-- cairn:plan -->';

/** Where approval records live as git notes (the syncer reads the same default): `git fetch origin refs/notes/cairn-approvals:…`. */
export { DEFAULT_NOTES_REF } from '../core/index.js';
