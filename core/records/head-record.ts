import { COMMIT_SHA, encodeJson, RecordFields } from './record-fields.js';
import { boundedMessage, boundedRevisions, decodeRevision, type Revision } from './revision.js';

/**
 * `/head`: the commit ZooKeeper mirrors and what each environment serves. Small, and written once per
 * mirrored commit: readers of configuration never watch it (they watch their environment's pointer),
 * and what is added to a commit later (its approval record) goes to its history record instead.
 */
export interface HeadRecord {
  /** The commit's number in mirroring order: its history record is `/history/<seq>`. */
  readonly seq: number;
  readonly commit: string;
  readonly tree: string;
  readonly author: { readonly name: string; readonly email: string };
  readonly message: string;
  /** Commit time, ISO 8601. */
  readonly time: string;
  /** When the syncer published it, ISO 8601. */
  readonly syncedAt: string;
  /**
   * The revision each environment serves: the branch head, or for an environment that follows
   * release tags the newest matching tag. An environment that follows tags and has none is absent.
   */
  readonly environments: Readonly<Record<string, Revision>>;
  /** The commit mirrored before this one, if any. */
  readonly previous?: string;
  /** True when `previous` is not an ancestor of `commit`: the branch was force-pushed. */
  readonly forced?: boolean;
}

export function encodeHeadRecord(record: HeadRecord): Uint8Array {
  return encodeJson({
    ...record,
    message: boundedMessage(record.message),
    environments: boundedRevisions(record.environments),
  });
}

export function decodeHeadRecord(data: Uint8Array, path?: string): HeadRecord {
  const fields = RecordFields.parse('head', data, path);
  const author = fields.object('author');
  const previous = fields.optionalString('previous', COMMIT_SHA);
  const forced = fields.optionalBoolean('forced');
  return {
    seq: fields.integer('seq', 1),
    commit: fields.string('commit', COMMIT_SHA),
    tree: fields.string('tree', COMMIT_SHA),
    author: { name: author.string('name'), email: author.string('email') },
    message: fields.string('message'),
    time: fields.string('time'),
    syncedAt: fields.string('syncedAt'),
    environments: fields.map('environments', (revision) => decodeRevision(revision)),
    ...(previous !== undefined ? { previous } : {}),
    ...(forced ? { forced } : {}),
  };
}
