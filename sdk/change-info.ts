/** The commit a configuration comes from, as the syncer recorded it in `/head`. */
export interface ChangeInfo {
  readonly commit: string;
  readonly author: { readonly name: string; readonly email: string };
  /** The commit message. */
  readonly message: string;
  /** Commit time, ISO 8601. */
  readonly time: string;
}

/**
 * The change info of a `/head` record for one environment; fields a record lacks read as empty rather
 * than failing. An environment that follows release tags serves the tagged commit, which `/head`
 * describes under `environments.<env>`; the record's own fields describe the branch head.
 */
export function changeInfoOf(
  head: Readonly<Record<string, unknown>> & { readonly commit: string },
  env?: string,
): ChangeInfo {
  const environments = (head.environments ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const revision = env === undefined ? undefined : environments[env];
  const source =
    revision && typeof revision.commit === 'string' && typeof revision.tag === 'string' ? revision : head;
  const author = (source.author ?? {}) as { name?: unknown; email?: unknown };
  return {
    commit: String(source.commit),
    author: {
      name: typeof author.name === 'string' ? author.name : '',
      email: typeof author.email === 'string' ? author.email : '',
    },
    message: typeof source.message === 'string' ? source.message : '',
    time: typeof source.time === 'string' ? source.time : '',
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
    !!info.author &&
    typeof info.author.name === 'string' &&
    typeof info.author.email === 'string'
  );
}
