import { CairnError } from '../../core/errors.js';

/** The tracked branch does not exist in the repository (or the repository has no commits yet). */
export class BranchNotFoundError extends CairnError {
  readonly branch: string;
  readonly url: string;

  constructor(branch: string, url: string, options?: { cause?: unknown }) {
    super(
      'BRANCH_NOT_FOUND',
      `branch ${JSON.stringify(branch)} does not exist in ${url}: check --branch, and that the branch has been pushed`,
      options,
    );
    this.branch = branch;
    this.url = url;
  }
}

/**
 * `git repack` of the clone failed: it keeps the packs it had (git deletes the old packs only once
 * the new one is in place), and the next repack tries again.
 */
export class RepackError extends CairnError {
  constructor(gitdir: string, reason: string, options?: { cause?: unknown }) {
    super(
      'REPACK_FAILED',
      `git repack of the clone in ${gitdir} failed (${reason}); the clone keeps its packs and is repacked on a later pass: check the disk and the git command`,
      options,
    );
  }
}

/** The repository could not be reached or did not answer as a git server: transient, retried. */
export class GitUnreachableError extends CairnError {
  readonly url: string;
  readonly reason: string;

  constructor(url: string, reason: string, options?: { cause?: unknown }) {
    super(
      'GIT_UNREACHABLE',
      `cannot fetch from ${url}: ${reason}; the syncer retries, meanwhile check the URL, the network and the git server`,
      options,
    );
    this.url = url;
    this.reason = reason;
  }
}

/** A commit (or the object it names) is not in the local copy of the repository. */
export class CommitNotFoundError extends CairnError {
  readonly commit: string;
  readonly url: string;

  constructor(commit: string, url: string, options?: { cause?: unknown }) {
    super(
      'COMMIT_NOT_FOUND',
      `commit ${commit} is not in the local copy of ${url}: fetch the branch first; a commit that a force-push removed cannot be read`,
      options,
    );
    this.commit = commit;
    this.url = url;
  }
}

/** A URL the git source cannot fetch from: a configuration error, raised when the source is opened. */
export class UnsupportedGitUrlError extends CairnError {
  readonly url: string;

  constructor(url: string) {
    super(
      'UNSUPPORTED_GIT_URL',
      `cannot fetch from ${url}: only http(s) URLs and local repository paths are supported (no ssh or git protocol)`,
    );
    this.url = url;
  }
}

/** A local path given as the repository holds no git repository: a configuration error, not retried. */
export class RepositoryNotFoundError extends CairnError {
  readonly path: string;

  constructor(path: string, reason: string) {
    super('REPOSITORY_NOT_FOUND', `no git repository at ${path}: ${reason}; check --repo`);
    this.path = path;
  }
}

/**
 * A tree of the commit holds an entry no checkout may have (`..`, a name with a backslash, `.git`):
 * git refuses to read such a tree, so the commit is refused at that entry. Terminal: the same
 * commit is never readable, only a later one that removes the entry.
 */
export class UnsafeTreeEntryError extends CairnError {
  /** The entry's path from the repository root, e.g. `services/api/config/..`. */
  readonly path: string;

  constructor(path: string, options?: { cause?: unknown }) {
    super(
      'UNSAFE_TREE_ENTRY',
      `the tree entry ${JSON.stringify(path)} is not a safe file name (such as "..", a backslash, ".git" or a name that is not UTF-8): rename or remove it in a new commit`,
      options,
    );
    this.path = path;
  }
}
