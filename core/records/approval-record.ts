import { COMMIT_SHA, RecordFields } from './record-fields.js';

/** Where the bot records who approved a merge: a git note on the merge commit. */
export const DEFAULT_NOTES_REF = 'refs/notes/cairn-approvals';

/** Identifies the record's shape, so readers (the syncer, auditors' scripts) can check what they parse. */
export const APPROVAL_RECORD_FORMAT = 'cairn/approval-record/v1';

export interface RecordedApproval {
  readonly login: string;
  /**
   * The commit the approval was given on: the merged head, or an earlier commit whose tree is the
   * head's (an approval carried over a push that changed no file).
   */
  readonly approvedSha: string;
  readonly submittedAt: string;
}

export interface RecordedRule {
  readonly rule: string;
  readonly satisfied: boolean;
  /** Distinct approvers who counted for any requirement of the rule. */
  readonly satisfiedBy: readonly RecordedApproval[];
}

/**
 * Who approved a merged pull request, under which rules, and which commit they saw: attached to the
 * merge commit as a git note by the bot, copied by the syncer into the commit's history record.
 * `satisfied: false` records a merge that went in without the approvals the policy asks for.
 */
export interface ApprovalRecord {
  readonly format: typeof APPROVAL_RECORD_FORMAT;
  readonly repository: string;
  readonly pr: number;
  readonly mergeCommit: string;
  readonly headSha: string;
  readonly baseRef: string;
  /** The commit whose policy.yaml the approvals were judged by. */
  readonly policyCommit: string;
  readonly mergedBy: string | null;
  readonly satisfied: boolean;
  readonly rules: readonly RecordedRule[];
  readonly recordedAt: string;
}

/** The note's content: pretty JSON with a final newline, readable with `git notes show`. */
export function serializeApprovalRecord(record: ApprovalRecord): string {
  return `${JSON.stringify(record, null, 2)}\n`;
}

/** Larger notes are not copied into ZooKeeper; git keeps them whole. */
export const MAX_APPROVAL_NOTE_BYTES = 16 * 1024;

export function decodeApprovalRecord(note: string | Uint8Array, where?: string): ApprovalRecord {
  const bytes = typeof note === 'string' ? Buffer.from(note, 'utf8') : note;
  const fields = RecordFields.parse('approval', bytes, where);
  const format = fields.string('format');
  if (format !== APPROVAL_RECORD_FORMAT) throw fields.fail('format', `must be ${APPROVAL_RECORD_FORMAT}`);
  const mergedBy = fields.raw('mergedBy');
  if (mergedBy !== null && typeof mergedBy !== 'string')
    throw fields.fail('mergedBy', 'must be a login or null');
  return {
    format: APPROVAL_RECORD_FORMAT,
    repository: fields.string('repository'),
    pr: fields.integer('pr', 1),
    mergeCommit: fields.string('mergeCommit', COMMIT_SHA),
    headSha: fields.string('headSha', COMMIT_SHA),
    baseRef: fields.string('baseRef'),
    policyCommit: fields.string('policyCommit', COMMIT_SHA),
    mergedBy,
    satisfied: fields.boolean('satisfied'),
    rules: fields.array('rules', (rule) => ({
      rule: rule.string('rule'),
      satisfied: rule.boolean('satisfied'),
      satisfiedBy: rule.array('satisfiedBy', (approval) => ({
        login: approval.string('login'),
        approvedSha: approval.string('approvedSha', COMMIT_SHA),
        submittedAt: approval.string('submittedAt'),
      })),
    })),
    recordedAt: fields.string('recordedAt'),
  };
}
