import { contentId } from './content-id.js';
import type { EnvironmentIndex } from './zk-inventory.js';
import type { ZkLayout } from './zk-layout.js';
import { ZkError } from './zookeeper/zk-error.js';
import type { ZkSession, ZkWatcher } from './zookeeper/zk-session.js';
import type { ZkStat } from './zookeeper/zk-stat.js';

/** The files of one service in one environment, all from the commit `/head` names. */
export interface EnvironmentSnapshot {
  /** The raw `/head` record (JSON): the commit these files belong to. */
  readonly head: Readonly<Record<string, unknown>> & { readonly commit: string };
  readonly headStat: ZkStat;
  readonly files: ReadonlyMap<string, Uint8Array>;
}

export type SnapshotRead =
  | { readonly consistent: true; readonly snapshot: EnvironmentSnapshot }
  /** A commit is being written (or `/head` moved while reading): keep what you have, read again when `/head` changes. */
  | { readonly consistent: false; readonly reason: string }
  /** Nothing mirrored yet for this service and environment. */
  | { readonly consistent: true; readonly snapshot: undefined };

/**
 * Reads one environment's files and proves they come from one commit: every node read must have an
 * mzxid no newer than `/head`'s (the syncer writes a small commit in the same transaction as
 * `/head`, and stages a large one before it), each file must match the content id its index lists,
 * and `/head` must not have moved meanwhile. Pass `watchHead` to be told when `/head` next changes,
 * and `known` (the files of the last snapshot) to read only the files whose content id changed.
 */
export async function readEnvironmentSnapshot(
  session: ZkSession,
  layout: ZkLayout,
  service: string,
  env: string,
  watchHead?: ZkWatcher,
  known?: ReadonlyMap<string, Uint8Array>,
): Promise<SnapshotRead> {
  let headData: Buffer;
  let headStat: ZkStat;
  try {
    ({ data: headData, stat: headStat } = await session.get(layout.head(), watchHead));
  } catch (error) {
    if (error instanceof ZkError && error.code === 'NO_NODE') {
      if (watchHead) await session.exists(layout.head(), watchHead);
      return { consistent: true, snapshot: undefined };
    }
    throw error;
  }
  const head = JSON.parse(headData.toString('utf8')) as EnvironmentSnapshot['head'];
  const newer = (stat: ZkStat) => stat.mzxid > headStat.mzxid;

  let index: EnvironmentIndex;
  try {
    const { data, stat } = await session.get(layout.configEnv(service, env));
    if (newer(stat)) return { consistent: false, reason: 'the environment index is newer than /head' };
    index = JSON.parse(data.toString('utf8')) as EnvironmentIndex;
  } catch (error) {
    if (error instanceof ZkError && error.code === 'NO_NODE')
      return { consistent: true, snapshot: undefined };
    throw error;
  }

  const entries = Object.entries(index.files);
  const reads = await Promise.all(
    entries.map(async ([path, id]) => {
      // Bytes the reader holds with the id the index lists are this commit's: no need to read them.
      const held = known?.get(path);
      if (held && contentId(held) === id) return [path, held] as const;
      try {
        const { data, stat } = await session.get(layout.configFile(service, env, path));
        if (newer(stat) || contentId(data) !== id) return undefined;
        return [path, new Uint8Array(data)] as const;
      } catch (error) {
        if (error instanceof ZkError && error.code === 'NO_NODE') return undefined;
        throw error;
      }
    }),
  );
  const files = new Map<string, Uint8Array>();
  for (const read of reads) {
    if (!read) return { consistent: false, reason: 'a file does not match the commit of its index' };
    files.set(read[0], read[1]);
  }
  const after = await session.exists(layout.head());
  if (!after || after.mzxid !== headStat.mzxid)
    return { consistent: false, reason: '/head moved while reading' };
  return { consistent: true, snapshot: { head, headStat, files } };
}
