import { CairnError, type Diagnostic } from '../core/index.js';

/** One ZooKeeper operation, or a commit's final transaction, is over what a request may carry. */
export class TransactionTooLargeError extends CairnError {
  constructor(path: string, bytes: number, limit: number) {
    super(
      'TRANSACTION_TOO_LARGE',
      `writing ${path} needs a ${bytes}-byte ZooKeeper request, over the ${limit}-byte limit (jute.maxbuffer); ` +
        'lower limits.maxFileBytes in cairn.yaml or split the change into smaller commits',
    );
  }
}

/** A commit on the branch that fails validation: not mirrored, the last good commit stays live. */
export class CommitRefusedError extends CairnError {
  readonly commit: string;
  readonly diagnostics: readonly Diagnostic[];

  constructor(commit: string, diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    super(
      'COMMIT_REFUSED',
      `commit ${commit.slice(0, 12)} is not mirrored: ${errors.length} validation error(s)` +
        (first ? `, first ${first.file}:${first.line}:${first.column} ${first.rule}: ${first.message}` : '') +
        '; the last good commit stays live until a commit fixes it',
    );
    this.commit = commit;
    this.diagnostics = errors;
  }
}
