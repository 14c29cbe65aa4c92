import { describe, expect, it } from 'vitest';
import type { Review } from '../github.js';
import { tallyReviews } from './tally-reviews.js';

const HEAD = 'h'.repeat(40);
const OLD = 'o'.repeat(40);
let id = 0;
const review = (
  login: string,
  state: Review['state'],
  commitId = HEAD,
  at = `2024-12-09T10:00:${String(++id).padStart(2, '0')}Z`,
): Review => ({
  id,
  login,
  state,
  commitId,
  submittedAt: at,
});

describe('tallyReviews', () => {
  it('counts an approval of the head commit', () => {
    expect(tallyReviews([review('alice', 'APPROVED')], HEAD, 'dana').approvals).toEqual([
      { login: 'alice', approvedSha: HEAD, submittedAt: expect.any(String) },
    ]);
  });

  it('sets aside an approval of an earlier commit as stale', () => {
    const tally = tallyReviews([review('alice', 'APPROVED', OLD)], HEAD, 'dana');
    expect(tally.approvals).toEqual([]);
    expect(tally.setAside).toEqual([
      expect.objectContaining({ login: 'alice', reason: 'stale', commitId: OLD }),
    ]);
  });

  it("never counts the author's approval", () => {
    const tally = tallyReviews([review('Dana', 'APPROVED')], HEAD, 'dana');
    expect(tally.approvals).toEqual([]);
    expect(tally.setAside.map((r) => r.reason)).toEqual(['author']);
  });

  it("lets each reviewer's latest decisive review win", () => {
    expect(
      tallyReviews([review('alice', 'APPROVED'), review('alice', 'CHANGES_REQUESTED')], HEAD, 'd').approvals,
    ).toEqual([]);
    expect(
      tallyReviews([review('alice', 'CHANGES_REQUESTED'), review('alice', 'APPROVED')], HEAD, 'd').approvals,
    ).toHaveLength(1);
    expect(
      tallyReviews([review('alice', 'APPROVED'), review('alice', 'APPROVED', OLD)], HEAD, 'd').approvals,
    ).toEqual([]);
  });

  it('keeps an approval when the reviewer later only comments', () => {
    expect(
      tallyReviews([review('alice', 'APPROVED'), review('alice', 'COMMENTED')], HEAD, 'd').approvals,
    ).toHaveLength(1);
  });

  it('does not count a dismissed review', () => {
    const tally = tallyReviews([review('alice', 'DISMISSED')], HEAD, 'd');
    expect(tally.approvals).toEqual([]);
    expect(tally.setAside.map((r) => r.reason)).toEqual(['dismissed']);
  });

  it('counts one person once, whatever the case of their login', () => {
    expect(
      tallyReviews([review('Alice', 'APPROVED'), review('alice', 'APPROVED')], HEAD, 'd').approvals,
    ).toHaveLength(1);
  });

  it('orders by submission time, not by listing order', () => {
    const later = review('alice', 'CHANGES_REQUESTED', HEAD, '2024-12-09T12:00:00Z');
    const earlier = review('alice', 'APPROVED', HEAD, '2024-12-09T11:00:00Z');
    expect(tallyReviews([later, earlier], HEAD, 'd').approvals).toEqual([]);
  });
});
