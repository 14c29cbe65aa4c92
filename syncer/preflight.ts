import type { Logger } from 'pino';
import { CairnError } from '../core/index.js';
import {
  BranchNotFoundError,
  type GitSource,
  RepositoryNotFoundError,
  UnsupportedGitUrlError,
} from './git/index.js';
import type { Mirror } from './mirror.js';

/** The branch exists, but no environment of the repository follows it: the syncer would serve nothing. */
export class BranchNotTrackedError extends CairnError {
  constructor(message: string) {
    super('BRANCH_NOT_TRACKED', message);
  }
}

/**
 * What a syncer checks before it starts: that the repository and branch exist and that some
 * environment follows the branch. Mistakes in the command line fail here, with what to fix, instead of
 * a daemon that retries forever; a network failure only delays the check to the first sync.
 */
export async function checkBranch(mirror: Mirror, source: GitSource, logger: Logger): Promise<void> {
  let head: string;
  // What a restart's clone holds is read meanwhile: usually the head the fetch finds.
  const readAhead = mirror.readAheadOfFetch();
  try {
    head = await source.fetchHead();
  } catch (error) {
    if (
      error instanceof BranchNotFoundError ||
      error instanceof RepositoryNotFoundError ||
      error instanceof UnsupportedGitUrlError
    )
      throw error;
    logger.warn(
      { code: error instanceof CairnError ? error.code : 'UNEXPECTED' },
      `cannot fetch the repository yet (${(error as Error).message}); the syncer keeps trying`,
    );
    await readAhead;
    return;
  }
  const problem = await mirror.checkBranchTracked(head);
  if (problem) throw new BranchNotTrackedError(problem.message);
}
