import {
  APPROVAL_RECORD_FORMAT,
  type ApprovalRecord,
  type RecordedApproval,
  serializeApprovalRecord,
} from '../../core/index.js';
import type { PullRequest } from '../github.js';
import type { PolicyEvaluation } from '../policy/evaluate.js';

// The record's type and its encoding live in core (the syncer reads it too); building it is the bot's.
export type { ApprovalRecord, RecordedApproval, RecordedRule } from '../../core/index.js';
export { APPROVAL_RECORD_FORMAT, serializeApprovalRecord };

export function buildApprovalRecord(input: {
  readonly repository: string;
  readonly pr: PullRequest;
  readonly mergeCommit: string;
  readonly evaluation: PolicyEvaluation;
  readonly recordedAt: string;
}): ApprovalRecord {
  const { pr, evaluation } = input;
  return {
    format: APPROVAL_RECORD_FORMAT,
    repository: input.repository,
    pr: pr.number,
    mergeCommit: input.mergeCommit,
    headSha: pr.headSha,
    baseRef: pr.baseRef,
    policyCommit: pr.baseSha,
    mergedBy: pr.mergedBy ?? null,
    satisfied: evaluation.satisfied,
    rules: evaluation.rules.map((rule) => {
      const byLogin = new Map<string, RecordedApproval>();
      for (const requirement of rule.requirements) {
        for (const approval of requirement.approvedBy) {
          const key = approval.login.toLowerCase();
          if (!byLogin.has(key)) {
            byLogin.set(key, {
              login: approval.login,
              approvedSha: approval.approvedSha,
              submittedAt: approval.submittedAt,
            });
          }
        }
      }
      return { rule: rule.rule, satisfied: rule.satisfied, satisfiedBy: [...byLogin.values()] };
    }),
    recordedAt: input.recordedAt,
  };
}

/** The record as the merge commit's check shows it. */
export function renderApprovalRecord(record: ApprovalRecord, notesRef: string): string {
  const lines = [
    record.satisfied
      ? `Pull request #${record.pr} merged with every approval \`policy.yaml\` asks for.`
      : `⚠️ Pull request #${record.pr} merged **without** the approvals \`policy.yaml\` asks for${record.mergedBy ? ` (merged by @${record.mergedBy})` : ''}.`,
    '',
    `Head \`${record.headSha.slice(0, 7)}\`, merge commit \`${record.mergeCommit.slice(0, 7)}\`, policy from \`${record.baseRef}\` at \`${record.policyCommit.slice(0, 7)}\`.`,
  ];
  if (record.rules.length > 0) {
    lines.push('', '| rule | | approved by |', '| --- | --- | --- |');
    for (const rule of record.rules) {
      const who = rule.satisfiedBy.map(
        (a) => `@${a.login} on \`${a.approvedSha.slice(0, 7)}\` at ${a.submittedAt}`,
      );
      lines.push(`| ${rule.rule} | ${rule.satisfied ? '✅' : '❌'} | ${who.join('<br>') || '—'} |`);
    }
  } else lines.push('', 'No rule of the policy applied to this change.');
  lines.push(
    '',
    `The record is the git note on the merge commit under \`${notesRef}\`:`,
    '',
    '```sh',
    `git fetch origin ${notesRef}:${notesRef}`,
    `git notes --ref=${notesRef} show ${record.mergeCommit}`,
    '```',
  );
  return lines.join('\n');
}
