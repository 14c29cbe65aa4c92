import type { Diagnostic } from '../diagnostic.js';
import { COMMIT_SHA, encodeJson, RecordFields } from './record-fields.js';

/**
 * `/refused`: the commit the syncer last refused (it failed validation), with why, until a later
 * commit mirrors. What `cairn status` shows, so a refused commit is never invisible; the syncer
 * writes it, and deletes it in the transaction that mirrors the next commit.
 */
export interface RefusalRecord {
  readonly commit: string;
  /** The release tag whose commit was refused, when an environment follows tags. */
  readonly tag?: string;
  /** The branch head when it was refused. */
  readonly branchHead: string;
  /** When the syncer refused it, ISO 8601. */
  readonly refusedAt: string;
  /** How many errors validation found; `diagnostics` holds the first of them. */
  readonly errorCount: number;
  readonly diagnostics: readonly Diagnostic[];
}

/** The record stays small whatever the number of errors: the rest are a `cairn validate` away. */
export const MAX_REFUSAL_DIAGNOSTICS = 50;
const MAX_MESSAGE_LENGTH = 1000;

export function encodeRefusalRecord(record: RefusalRecord): Uint8Array {
  return encodeJson({
    ...record,
    diagnostics: record.diagnostics.slice(0, MAX_REFUSAL_DIAGNOSTICS).map((d) => ({
      ...d,
      message:
        d.message.length > MAX_MESSAGE_LENGTH ? `${d.message.slice(0, MAX_MESSAGE_LENGTH)}…` : d.message,
    })),
  });
}

export function decodeRefusalRecord(data: Uint8Array, path?: string): RefusalRecord {
  const fields = RecordFields.parse('refusal', data, path);
  const tag = fields.optionalString('tag');
  return {
    commit: fields.string('commit', COMMIT_SHA),
    ...(tag !== undefined ? { tag } : {}),
    branchHead: fields.string('branchHead', COMMIT_SHA),
    refusedAt: fields.string('refusedAt'),
    errorCount: fields.integer('errorCount', 0),
    diagnostics: fields.array('diagnostics', (d) => {
      const severity = d.string('severity');
      if (severity !== 'error' && severity !== 'warning')
        throw d.fail('severity', 'must be "error" or "warning"');
      return {
        file: d.string('file'),
        line: d.integer('line', 1),
        column: d.integer('column', 1),
        severity,
        rule: d.string('rule'),
        message: d.string('message'),
      };
    }),
  };
}
