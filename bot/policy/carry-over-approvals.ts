import type { PolicyManifest } from '../../core/index.js';
import type { Approval, ReviewTally, SetAsideReview } from './tally-reviews.js';

/** `approvals.keepOnUnchangedTree` of policy.yaml, on unless the policy turns it off. */
export function keepsApprovalsOnUnchangedTree(policy: PolicyManifest): boolean {
  return policy.approvals?.keepOnUnchangedTree ?? true;
}

/** The head commit and its git tree: what a carried-over approval must have seen. */
export interface HeadTree {
  readonly sha: string;
  readonly tree: string;
}

/**
 * Carries approvals over pushes that changed no file. An approval of an earlier commit whose git
 * tree is the head's tree (a reworded or squashed commit, a rebase that brings nothing new) approved
 * exactly the files that would merge, so it counts again; it keeps its own commit, so the report and
 * the record say which commit the reviewer saw. `treesOfCommits` holds the trees of the stale
 * approvals' commits that could be read; an approval whose commit is missing there stays stale.
 */
export function carryOverUnchangedTree(
  tally: ReviewTally,
  head: HeadTree,
  treesOfCommits: ReadonlyMap<string, string>,
): ReviewTally {
  const carried: Approval[] = [];
  const setAside: SetAsideReview[] = [];
  for (const review of tally.setAside) {
    const tree =
      review.reason === 'stale' && review.commitId ? treesOfCommits.get(review.commitId) : undefined;
    if (tree === undefined || review.commitId === undefined) setAside.push(review);
    else if (tree === head.tree) {
      carried.push({
        login: review.login,
        approvedSha: review.commitId,
        submittedAt: review.submittedAt ?? '',
        unchangedTree: tree,
      });
    } else setAside.push({ ...review, filesChanged: true });
  }
  return { approvals: [...tally.approvals, ...carried], setAside };
}

/** The commits of stale approvals: the only ones whose trees are worth reading. */
export function staleApprovalCommits(tally: ReviewTally): string[] {
  return [
    ...new Set(
      tally.setAside.flatMap((review) =>
        review.reason === 'stale' && review.commitId ? [review.commitId] : [],
      ),
    ),
  ];
}
