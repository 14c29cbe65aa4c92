import type { FencedWriter, ZkLayout, ZkOp, ZkSession } from '../../core/index.js';

const REMOVALS_PER_TRANSACTION = 500;

/**
 * Deletes a node and everything below it, children first, fenced. A tree too large for one
 * transaction is removed in several, leaves first, so an interruption leaves a smaller tree that the
 * next pass removes.
 */
export async function removeTree(
  session: ZkSession,
  writer: FencedWriter,
  layout: ZkLayout,
  path: string,
): Promise<void> {
  const order: string[] = [];
  const walk = async (node: string): Promise<void> => {
    for (const child of await session.childrenIfExists(node)) await walk(layout.child(node, child));
    order.push(node);
  };
  await walk(path);
  for (let at = 0; at < order.length; at += REMOVALS_PER_TRANSACTION) {
    const ops: ZkOp[] = order
      .slice(at, at + REMOVALS_PER_TRANSACTION)
      .map((node) => ({ op: 'remove', path: node }));
    await writer.multi(ops);
  }
}
