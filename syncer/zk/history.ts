import { ZkError, type ZkLayout, type ZkOp, type ZkSession } from '../../core/index.js';

const REMOVALS_PER_TRANSACTION = 500;

/** Deletes the oldest history records beyond `retention`. */
export async function trimHistory(
  session: ZkSession,
  layout: ZkLayout,
  retention: number,
  fence?: ZkOp,
): Promise<number> {
  const { children } = await session.children(layout.historyDir());
  if (children.length <= retention) return 0;
  // Sequential names end in a zero-padded counter, so lexical order is age order.
  const oldest = [...children].sort().slice(0, children.length - retention);
  for (let i = 0; i < oldest.length; i += REMOVALS_PER_TRANSACTION) {
    const removes: ZkOp[] = oldest
      .slice(i, i + REMOVALS_PER_TRANSACTION)
      .map((name) => ({ op: 'remove', path: `${layout.historyDir()}/${name}` }));
    try {
      await session.multi(fence ? [fence, ...removes] : removes);
    } catch (error) {
      // Another trim got there first: the records are gone either way.
      if (!(error instanceof ZkError && error.code === 'NO_NODE' && error.path !== fence?.path)) throw error;
    }
  }
  return oldest.length;
}
