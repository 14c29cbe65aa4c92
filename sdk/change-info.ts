import type { Revision } from '../core/index.js';

/** The commit a configuration comes from: who made it, when and why, and the release tag that brought it. */
export interface ChangeInfo {
  readonly commit: string;
  /** The release tag, for an environment that follows tags. */
  readonly tag?: string;
  readonly author: { readonly name: string; readonly email: string };
  /** The commit message. */
  readonly message: string;
  /** Commit time, ISO 8601. */
  readonly time: string;
}

/** The change info of a revision ZooKeeper recorded (an environment pointer's, or `/head`'s). */
export function changeInfoOf(revision: Revision): ChangeInfo {
  return {
    commit: revision.commit,
    ...(revision.tag !== undefined ? { tag: revision.tag } : {}),
    author: { name: revision.author.name, email: revision.author.email },
    message: revision.message,
    time: revision.time,
  };
}

/** Whether an untrusted value (from a cache file) is a ChangeInfo. */
export function isChangeInfo(value: unknown): value is ChangeInfo {
  const info = value as Partial<ChangeInfo> | null;
  return (
    !!info &&
    typeof info.commit === 'string' &&
    typeof info.message === 'string' &&
    typeof info.time === 'string' &&
    (info.tag === undefined || typeof info.tag === 'string') &&
    !!info.author &&
    typeof info.author.name === 'string' &&
    typeof info.author.email === 'string'
  );
}
