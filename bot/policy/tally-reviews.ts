import type { Review } from '../github.js';

/**
 * One approval that counts: given by someone other than the author, on the head commit or (carried
 * over a push that changed no file) on an earlier commit with the head's very tree.
 */
export interface Approval {
  readonly login: string;
  /** The commit the reviewer approved: the head, unless the approval was carried over. */
  readonly approvedSha: string;
  readonly submittedAt: string;
  /** Set when the approval was carried over: the tree the approved commit and the head share. */
  readonly unchangedTree?: string;
}

export type SetAsideReason = 'stale' | 'author' | 'dismissed' | 'changes-requested';

/** A reviewer whose latest word is not a usable approval, and why: shown so people know what to do. */
export interface SetAsideReview {
  readonly login: string;
  readonly reason: SetAsideReason;
  readonly commitId: string | undefined;
  readonly submittedAt: string | undefined;
  /** A stale approval whose commit's tree was compared with the head's, and differs: files changed since. */
  readonly filesChanged?: boolean;
}

export interface ReviewTally {
  readonly approvals: readonly Approval[];
  readonly setAside: readonly SetAsideReview[];
}

/** Review states that change where a reviewer stands; a comment after an approval does not withdraw it. */
const DECISIVE = new Set<Review['state']>(['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED']);

/**
 * Each reviewer's latest decisive review wins. It counts only when it approves the head commit itself:
 * an approval of an earlier commit says nothing about what was pushed since. The author never approves
 * their own change, and a dismissed review is no approval.
 */
export function tallyReviews(reviews: readonly Review[], headSha: string, author: string): ReviewTally {
  const latest = new Map<string, { review: Review; order: number }>();
  reviews.forEach((review, order) => {
    if (!DECISIVE.has(review.state) || review.login === '') return;
    const key = review.login.toLowerCase();
    const current = latest.get(key);
    if (!current || isLater(review, order, current.review, current.order)) latest.set(key, { review, order });
  });
  const approvals: Approval[] = [];
  const setAside: SetAsideReview[] = [];
  for (const { review } of [...latest.values()].sort((a, b) => a.order - b.order)) {
    const aside = (reason: SetAsideReason) =>
      setAside.push({
        login: review.login,
        reason,
        commitId: review.commitId,
        submittedAt: review.submittedAt,
      });
    if (review.login.toLowerCase() === author.toLowerCase()) {
      if (review.state === 'APPROVED') aside('author');
    } else if (review.state === 'DISMISSED') aside('dismissed');
    else if (review.state === 'CHANGES_REQUESTED') aside('changes-requested');
    else if (review.commitId !== headSha) aside('stale');
    else approvals.push({ login: review.login, approvedSha: headSha, submittedAt: review.submittedAt ?? '' });
  }
  return { approvals, setAside };
}

/** GitHub lists reviews oldest first; the submission time decides when both have one. */
function isLater(a: Review, orderA: number, b: Review, orderB: number): boolean {
  if (a.submittedAt && b.submittedAt && a.submittedAt !== b.submittedAt) return a.submittedAt > b.submittedAt;
  return orderA > orderB;
}
