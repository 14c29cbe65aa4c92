import { COMMIT_SHA, type RecordFields } from './record-fields.js';

/** Who made a commit, when and why: what a reader is told about the configuration it serves. */
export interface Revision {
  readonly commit: string;
  /** The release tag that brought the commit, for an environment that follows tags. */
  readonly tag?: string;
  readonly author: { readonly name: string; readonly email: string };
  readonly message: string;
  /** Commit time, ISO 8601. */
  readonly time: string;
}

/** Records stay small whatever the commit message. */
export const MAX_MESSAGE_LENGTH = 4000;

export function boundedMessage(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}…` : message;
}

export function boundedRevision(revision: Revision): Revision {
  return { ...revision, message: boundedMessage(revision.message) };
}

/** Each environment's revision, bounded. */
export function boundedRevisions(revisions: Readonly<Record<string, Revision>>): Record<string, Revision> {
  return Object.fromEntries(Object.entries(revisions).map(([env, r]) => [env, boundedRevision(r)]));
}

export function decodeRevision(fields: RecordFields): Revision {
  const author = fields.object('author');
  const tag = fields.optionalString('tag');
  return {
    commit: fields.string('commit', COMMIT_SHA),
    ...(tag !== undefined ? { tag } : {}),
    author: { name: author.string('name'), email: author.string('email') },
    message: fields.string('message'),
    time: fields.string('time'),
  };
}
