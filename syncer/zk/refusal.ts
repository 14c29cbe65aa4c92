import {
  encodeRefusalRecord,
  type FencedWriter,
  type RefusalRecord,
  ZkError,
  type ZkLayout,
  type ZkOp,
  type ZkSession,
} from '../../core/index.js';

/** Where the leader writes: its session to read, its fenced writer to write. */
interface Target {
  readonly session: ZkSession;
  readonly writer: FencedWriter;
}

/** Writes `/refused` (created, or replaced): what `cairn status` shows until a commit mirrors. */
export async function recordRefusal(target: Target, layout: ZkLayout, record: RefusalRecord): Promise<void> {
  const path = layout.refused();
  const data = encodeRefusalRecord(record);
  if (await target.session.exists(path)) return target.writer.set(path, data);
  try {
    await target.writer.create(path, data);
  } catch (error) {
    if (!(error instanceof ZkError && error.code === 'NODE_EXISTS')) throw error;
    await target.writer.set(path, data);
  }
}

/** The operation that removes `/refused` in the transaction that mirrors a commit, if it is there. */
export async function clearRefusalOps(session: ZkSession, layout: ZkLayout): Promise<ZkOp[]> {
  const stat = await session.exists(layout.refused());
  return stat ? [{ op: 'remove', path: layout.refused(), version: stat.version }] : [];
}

/** Removes `/refused`: the branch is mirrored again (a revert, or a force-push back to it). */
export async function clearRefusal(target: Target, layout: ZkLayout): Promise<void> {
  const ops = await clearRefusalOps(target.session, layout);
  if (ops.length === 0) return;
  try {
    await target.writer.multi(ops);
  } catch (error) {
    // Someone removed or replaced it meanwhile: the next sync looks again.
    if (!(error instanceof ZkError && (error.code === 'NO_NODE' || error.code === 'BAD_VERSION')))
      throw error;
  }
}
