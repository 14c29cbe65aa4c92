import { describe, expect, it } from 'vitest';
import type { PullRequest } from '../github.js';
import type { PolicyEvaluation } from '../policy/evaluate.js';
import { buildApprovalRecord, renderApprovalRecord, serializeApprovalRecord } from './approval-record.js';

const HEAD = 'h'.repeat(40);
const pr: PullRequest = {
  number: 12,
  state: 'closed',
  merged: true,
  author: 'dana',
  headSha: HEAD,
  headRef: 'release',
  headRepo: 'northwind/config',
  baseSha: 'b'.repeat(40),
  baseRef: 'main',
  baseRepo: 'northwind/config',
  fromFork: false,
  changedFiles: 1,
  mergeCommitSha: 'm'.repeat(40),
  mergedBy: 'tomas',
  ownerIsOrganization: true,
};
const tomas = { login: 'tomas', approvedSha: HEAD, submittedAt: '2024-12-09T10:00:01Z' };
const sam = { login: 'sam', approvedSha: HEAD, submittedAt: '2024-12-09T10:00:02Z' };
const evaluation: PolicyEvaluation = {
  satisfied: true,
  rules: [
    {
      rule: 'prod-releases',
      files: ['services/a/releases/prod.yaml'],
      satisfied: true,
      requirements: [
        {
          approvals: 1,
          from: ['owners'],
          service: 'a',
          eligible: ['user:tomas'],
          approvedBy: [tomas],
          satisfied: true,
        },
        {
          approvals: 1,
          from: ['team:sre'],
          eligible: ['team:sre'],
          approvedBy: [sam, { ...tomas }],
          satisfied: true,
        },
      ],
    },
  ],
};

describe('the approval record', () => {
  const record = buildApprovalRecord({
    repository: 'northwind/config',
    pr,
    mergeCommit: 'm'.repeat(40),
    evaluation,
    recordedAt: '2024-12-09T11:00:00Z',
  });

  it('names each rule with the distinct people who approved the merged head', () => {
    expect(record).toEqual({
      format: 'cairn/approval-record/v1',
      repository: 'northwind/config',
      pr: 12,
      mergeCommit: 'm'.repeat(40),
      headSha: HEAD,
      baseRef: 'main',
      policyCommit: 'b'.repeat(40),
      mergedBy: 'tomas',
      satisfied: true,
      rules: [{ rule: 'prod-releases', satisfied: true, satisfiedBy: [tomas, sam] }],
      recordedAt: '2024-12-09T11:00:00Z',
    });
  });

  it('serializes as readable JSON that parses back to itself', () => {
    const text = serializeApprovalRecord(record);
    expect(text.endsWith('}\n')).toBe(true);
    expect(JSON.parse(text)).toEqual(record);
  });

  it('tells how to read the note with git', () => {
    expect(renderApprovalRecord(record, 'refs/notes/cairn-approvals')).toContain(
      `git notes --ref=refs/notes/cairn-approvals show ${'m'.repeat(40)}`,
    );
  });
});
