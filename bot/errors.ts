import { CairnError } from '../core/index.js';

/** Stable codes of the failures GitHub can hand the bot; callers switch on these, never on text. */
export type GitHubErrorCode =
  | 'GITHUB_UNAUTHORIZED'
  | 'GITHUB_FORBIDDEN'
  | 'GITHUB_NOT_FOUND'
  | 'GITHUB_CONFLICT'
  | 'GITHUB_REJECTED'
  | 'GITHUB_RATE_LIMITED'
  | 'GITHUB_UNAVAILABLE';

/**
 * A GitHub API call that failed, translated once in the facade. `operation` names the facade
 * method (`github.getTree`), `httpStatus` what GitHub answered (undefined when no answer came).
 * The status is deliberately not called `status`: the webhook middleware would echo such a field as
 * the HTTP status of its own reply to GitHub.
 */
export class GitHubError extends CairnError {
  declare readonly code: GitHubErrorCode;
  readonly operation: string;
  readonly httpStatus: number | undefined;

  constructor(
    code: GitHubErrorCode,
    operation: string,
    httpStatus: number | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.operation = operation;
    this.httpStatus = httpStatus;
  }
}

/** GitHub cut the listing of a tree short (over 100,000 entries or 7 MB): it cannot be checked whole. */
export class TreeTruncatedError extends CairnError {
  declare readonly code: 'TREE_TRUNCATED';
  readonly sha: string;
  readonly entries: number;

  constructor(sha: string, entries: number) {
    super(
      'TREE_TRUNCATED',
      `GitHub truncated the file listing of ${sha} after ${entries} entries (its limit is 100,000 entries or 7 MB): ` +
        'Cairn cannot check a repository it cannot see whole; move what is not configuration out of the config repository',
    );
    this.sha = sha;
    this.entries = entries;
  }
}

/** A blob whose bytes do not hash to the id GitHub listed: never validate or plan on such content. */
export class BlobMismatchError extends CairnError {
  declare readonly code: 'BLOB_MISMATCH';
  readonly sha: string;

  constructor(sha: string, actual: string) {
    super(
      'BLOB_MISMATCH',
      `blob ${sha} arrived with content whose git id is ${actual}: the transfer was corrupted; re-run the check`,
    );
    this.sha = sha;
  }
}

/** The bot's own settings (environment variables) are wrong; the message names the variable. */
export class InvalidSettingsError extends CairnError {
  declare readonly code: 'INVALID_SETTINGS';

  constructor(message: string) {
    super('INVALID_SETTINGS', message);
  }
}
