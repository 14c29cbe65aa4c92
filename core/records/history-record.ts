import { CONTENT_ID } from '../zk-layout.js';
import { type ApprovalRecord, decodeApprovalRecord } from './approval-record.js';
import { COMMIT_SHA, CorruptRecordError, encodeJson, RecordFields } from './record-fields.js';
import { boundedMessage, boundedRevisions, decodeRevision, type Revision } from './revision.js';

/** How one environment's snapshot changed with a commit: the manifest content ids before and after. */
export interface SnapshotChange {
  readonly service: string;
  readonly env: string;
  /** Absent when the environment appears with this commit. */
  readonly from?: string;
  /** Absent when the environment goes away with this commit. */
  readonly to?: string;
}

/** Why a commit's approval record is not in its history record, when the bot's note was unusable. */
export interface OmittedApprovals {
  readonly omitted: string;
}

/**
 * `/history/<seq>`: one record per mirrored commit. Nobody watches it, so what is learnt about a
 * commit after it went live (its approval record) is added here without waking any reader. The
 * snapshot changes tell content collection which snapshots the last commits referenced.
 */
export interface HistoryRecord {
  readonly seq: number;
  readonly commit: string;
  readonly tree: string;
  readonly previous?: string;
  readonly forced?: boolean;
  readonly author: { readonly name: string; readonly email: string };
  readonly message: string;
  readonly time: string;
  readonly syncedAt: string;
  /** What each environment serves after this commit (see HeadRecord.environments). */
  readonly environments: Readonly<Record<string, Revision>>;
  /** Repository paths the commit changed since `previous` (the first MAX_CHANGED_PATHS of them). */
  readonly changed: readonly string[];
  readonly changedCount: number;
  readonly snapshots: readonly SnapshotChange[];
  readonly approvals?: ApprovalRecord | OmittedApprovals;
}

/** Keeps the record small whatever the commit: `git diff` has every path. */
export const MAX_CHANGED_PATHS = 200;

export function encodeHistoryRecord(record: HistoryRecord): Uint8Array {
  return encodeJson({
    ...record,
    message: boundedMessage(record.message),
    environments: boundedRevisions(record.environments),
    changed: record.changed.slice(0, MAX_CHANGED_PATHS),
  });
}

export function decodeHistoryRecord(data: Uint8Array, path?: string): HistoryRecord {
  const fields = RecordFields.parse('history', data, path);
  const author = fields.object('author');
  const previous = fields.optionalString('previous', COMMIT_SHA);
  const forced = fields.optionalBoolean('forced');
  const approvals = fields.optionalObject('approvals');
  return {
    seq: fields.integer('seq', 1),
    commit: fields.string('commit', COMMIT_SHA),
    tree: fields.string('tree', COMMIT_SHA),
    ...(previous !== undefined ? { previous } : {}),
    ...(forced ? { forced } : {}),
    author: { name: author.string('name'), email: author.string('email') },
    message: fields.string('message'),
    time: fields.string('time'),
    syncedAt: fields.string('syncedAt'),
    environments: fields.map('environments', (revision) => decodeRevision(revision)),
    changed: fields.stringArray('changed'),
    changedCount: fields.integer('changedCount', 0),
    snapshots: fields.array('snapshots', (change) => {
      const from = change.optionalString('from', CONTENT_ID);
      const to = change.optionalString('to', CONTENT_ID);
      return {
        service: change.string('service'),
        env: change.string('env'),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
      };
    }),
    ...(approvals
      ? { approvals: decodeApprovals(approvals.has('omitted') ? approvals : undefined, fields, path) }
      : {}),
  };
}

function decodeApprovals(
  omitted: RecordFields | undefined,
  fields: RecordFields,
  path: string | undefined,
): ApprovalRecord | OmittedApprovals {
  if (omitted) return { omitted: omitted.string('omitted') };
  try {
    return decodeApprovalRecord(encodeJson(fields.raw('approvals')), path);
  } catch (error) {
    if (error instanceof CorruptRecordError)
      throw new CorruptRecordError('history', path, `approvals: ${error.message}`);
    throw error;
  }
}
