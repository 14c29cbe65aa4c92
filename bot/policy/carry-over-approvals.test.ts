import { describe, expect, it } from 'vitest';
import type { PolicyManifest } from '../../core/index.js';
import type { Review } from '../github.js';
import {
  carryOverUnchangedTree,
  keepsApprovalsOnUnchangedTree,
  staleApprovalCommits,
} from './carry-over-approvals.js';
import { tallyReviews } from './tally-reviews.js';

const HEAD = { sha: 'h'.repeat(40), tree: 't'.repeat(40) };
const REWORDED = 'r'.repeat(40);
const EDITED = 'e'.repeat(40);
const GONE = 'g'.repeat(40);
const trees = new Map([
  [REWORDED, HEAD.tree],
  [EDITED, 'x'.repeat(40)],
]);

let id = 0;
const review = (login: string, state: Review['state'], commitId: string): Review => ({
  id: ++id,
  login,
  state,
  commitId,
  submittedAt: `2024-12-09T10:00:${String(id).padStart(2, '0')}Z`,
});

describe('carryOverUnchangedTree', () => {
  it("counts an approval of an earlier commit whose tree is the head's, naming the commit approved", () => {
    const tally = tallyReviews([review('alice', 'APPROVED', REWORDED)], HEAD.sha, 'dana');
    expect(carryOverUnchangedTree(tally, HEAD, trees)).toEqual({
      approvals: [
        { login: 'alice', approvedSha: REWORDED, submittedAt: expect.any(String), unchangedTree: HEAD.tree },
      ],
      setAside: [],
    });
  });

  it('leaves an approval stale when files changed since, and says so', () => {
    const tally = tallyReviews([review('alice', 'APPROVED', EDITED)], HEAD.sha, 'dana');
    const carried = carryOverUnchangedTree(tally, HEAD, trees);
    expect(carried.approvals).toEqual([]);
    expect(carried.setAside).toEqual([
      expect.objectContaining({ login: 'alice', reason: 'stale', commitId: EDITED, filesChanged: true }),
    ]);
  });

  it('leaves an approval stale when its commit could not be read', () => {
    const tally = tallyReviews([review('alice', 'APPROVED', GONE)], HEAD.sha, 'dana');
    const carried = carryOverUnchangedTree(tally, HEAD, trees);
    expect(carried.approvals).toEqual([]);
    expect(carried.setAside).toEqual([expect.objectContaining({ reason: 'stale', commitId: GONE })]);
    expect(carried.setAside[0]).not.toHaveProperty('filesChanged');
  });

  it('never revives what the tally set aside for another reason than staleness', () => {
    const tally = tallyReviews(
      [
        review('dana', 'APPROVED', REWORDED),
        review('bob', 'CHANGES_REQUESTED', REWORDED),
        review('carol', 'APPROVED', REWORDED),
        review('carol', 'DISMISSED', REWORDED),
      ],
      HEAD.sha,
      'dana',
    );
    const carried = carryOverUnchangedTree(tally, HEAD, trees);
    expect(carried.approvals).toEqual([]);
    expect(carried.setAside.map((r) => r.reason)).toEqual(['author', 'changes-requested', 'dismissed']);
  });

  it("keeps approvals of the head as they are, and only a reviewer's latest word counts", () => {
    const tally = tallyReviews(
      [
        review('alice', 'APPROVED', HEAD.sha),
        review('bob', 'APPROVED', REWORDED),
        review('bob', 'APPROVED', EDITED),
      ],
      HEAD.sha,
      'dana',
    );
    expect(staleApprovalCommits(tally)).toEqual([EDITED]);
    const carried = carryOverUnchangedTree(tally, HEAD, trees);
    expect(carried.approvals.map((a) => [a.login, a.approvedSha])).toEqual([['alice', HEAD.sha]]);
    expect(carried.setAside).toEqual([expect.objectContaining({ login: 'bob', filesChanged: true })]);
  });
});

describe('keepsApprovalsOnUnchangedTree', () => {
  const rules: PolicyManifest['rules'] = [
    { name: 'any', paths: ['**'], require: [{ approvals: 1, from: ['owners'] }] },
  ];

  it('is on unless policy.yaml turns it off', () => {
    expect(keepsApprovalsOnUnchangedTree({ apiVersion: 'cairn/v1', rules })).toBe(true);
    expect(keepsApprovalsOnUnchangedTree({ apiVersion: 'cairn/v1', rules, approvals: {} })).toBe(true);
    expect(
      keepsApprovalsOnUnchangedTree({
        apiVersion: 'cairn/v1',
        rules,
        approvals: { keepOnUnchangedTree: false },
      }),
    ).toBe(false);
  });
});
