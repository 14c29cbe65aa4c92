import { CairnError } from '../core/index.js';

/**
 * What `/head` says: the commit ZooKeeper mirrors, who made it and when it was mirrored. Readers
 * compare every node's mzxid with `/head`'s to prove they read one commit (see docs in README).
 */
export interface HeadRecord {
  readonly commit: string;
  readonly tree: string;
  readonly author: { readonly name: string; readonly email: string };
  readonly message: string;
  /** Commit time, ISO 8601. */
  readonly time: string;
  /** When the syncer finished writing it, ISO 8601. */
  readonly syncedAt: string;
  /**
   * The commit each environment serves: the branch head, or for an environment that tracks tags the
   * newest matching tag (with its name). An environment that tracks tags and has none is absent.
   */
  readonly environments?: Readonly<Record<string, EnvironmentRevision>>;
  /** The commit mirrored before this one, if any. */
  readonly previous?: string;
  /** Repository paths the commit changed relative to `previous` (at most MAX_CHANGED_PATHS of them). */
  readonly changed?: readonly string[];
  readonly changedCount?: number;
  /** True when `previous` is not an ancestor of `commit`: the branch was force-pushed. */
  readonly forced?: boolean;
  /** The approval record the bot attached to the commit as a git note (refs/notes/cairn-approvals). */
  readonly approvals?: unknown;
}

/** Where the bot records who approved a merge: a git note on the merge commit. */
export const APPROVALS_NOTES_REF = 'refs/notes/cairn-approvals';
/** Larger notes are not copied into `/head`, which every reader reads; git keeps them whole. */
const MAX_APPROVALS_BYTES = 16 * 1024;

/** The approval record of a note, as `/head` carries it: parsed JSON, or why it is left out. */
export function approvalsFromNote(note: string): unknown {
  if (Buffer.byteLength(note) > MAX_APPROVALS_BYTES)
    return { omitted: `the note is over ${MAX_APPROVALS_BYTES} bytes: read it with git notes` };
  try {
    return JSON.parse(note);
  } catch {
    return { omitted: 'the note is not JSON' };
  }
}

/**
 * The commit an environment serves. For one that follows a tag, the tag and that commit's author,
 * message and time (the record's own fields describe the branch head).
 */
export interface EnvironmentRevision {
  readonly commit: string;
  readonly tag?: string;
  readonly author?: { readonly name: string; readonly email: string };
  readonly message?: string;
  readonly time?: string;
}

/** Keeps `/head` small whatever the commit: readers that need every path diff the indexes. */
export const MAX_CHANGED_PATHS = 200;
const MAX_MESSAGE_LENGTH = 4000;

export function encodeHeadRecord(record: HeadRecord): Uint8Array {
  const bounded: HeadRecord = {
    ...record,
    message:
      record.message.length > MAX_MESSAGE_LENGTH
        ? `${record.message.slice(0, MAX_MESSAGE_LENGTH)}…`
        : record.message,
    ...(record.changed
      ? { changed: record.changed.slice(0, MAX_CHANGED_PATHS), changedCount: record.changed.length }
      : {}),
  };
  return Buffer.from(JSON.stringify(bounded), 'utf8');
}

export class CorruptHeadError extends CairnError {
  constructor(path: string, reason: string) {
    super(
      'CORRUPT_HEAD',
      `${path} does not hold a Cairn head record (${reason}); the syncer rewrites it on the next sync`,
    );
  }
}

export function decodeHeadRecord(path: string, data: Uint8Array): HeadRecord {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (error) {
    throw new CorruptHeadError(path, (error as Error).message);
  }
  const record = value as Partial<HeadRecord> | null;
  if (!record || typeof record.commit !== 'string' || !/^[0-9a-f]{40}$/.test(record.commit)) {
    throw new CorruptHeadError(path, 'no commit sha');
  }
  return record as HeadRecord;
}
