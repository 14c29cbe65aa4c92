import {
  diffInventories,
  type InventoryDiff,
  type ZkInventory,
  type ZkLayout,
  type ZkOp,
  type ZkSession,
} from '../../core/index.js';
import { TransactionTooLargeError } from '../errors.js';

/**
 * Bytes one transaction may carry. ZooKeeper refuses requests over jute.maxbuffer (1 MiB by default)
 * and an oversized one can take a server down (ZOOKEEPER-3496), so batches stay well below it.
 */
export const TRANSACTION_BUDGET_BYTES = 900 * 1024;
/** A single operation may use nearly the whole request: a file at the validator's upper limit. */
const SINGLE_OP_LIMIT_BYTES = 1024 * 1024 - 1024;
/** Per-operation framing in a multi request (op header, path length, version, ACL, flags). */
const OP_OVERHEAD_BYTES = 64;

export interface CommitWrite {
  readonly from: ZkInventory;
  readonly to: ZkInventory;
  readonly head: Uint8Array;
  /** Version `/head` must have now; undefined when it must not exist yet. */
  readonly headVersion: number | undefined;
  readonly historyRecord: Uint8Array;
  /** Checked in every transaction: fails the write if this writer lost leadership. */
  readonly fence?: ZkOp;
}

export interface CommitWriteResult {
  readonly diff: InventoryDiff;
  readonly transactions: number;
  readonly staged: boolean;
  readonly operations: number;
}

/**
 * Writes the difference between two inventories and flips `/head`, so that no reader can take a
 * mix of two commits for one:
 *
 * - When everything fits in one request, it is one multi(): removes, creates, updates, `/head` (with
 *   a version check, so two writers never interleave) and a history record share one zxid.
 * - Otherwise creates and updates are staged first in several transactions. Every node they touch
 *   gets an mzxid above `/head`'s, which tells readers a commit is in flight: they keep what they
 *   have and read again when `/head` changes. Removals of files and folders can be staged too: a
 *   reader that finds a file of its index missing sees the same. What readers find by fixed path or
 *   by index (environment indexes, services, releases) is removed in the final transaction, with
 *   `/head`, so their disappearance is atomic with the new commit.
 */
export async function writeCommit(
  session: ZkSession,
  layout: ZkLayout,
  write: CommitWrite,
): Promise<CommitWriteResult> {
  const diff = diffInventories(write.from, write.to);
  const fence = write.fence ? [write.fence] : [];
  const headOp: ZkOp =
    write.headVersion === undefined
      ? { op: 'create', path: layout.head(), data: write.head }
      : { op: 'set', path: layout.head(), data: write.head, version: write.headVersion };
  const historyOp: ZkOp = {
    op: 'create',
    path: layout.historyPrefix(),
    data: write.historyRecord,
    mode: 'persistent-sequential',
  };

  const removes: ZkOp[] = diff.removes.map((path) => ({ op: 'remove', path }));
  const creates: ZkOp[] = diff.creates.map((path) => ({
    op: 'create',
    path,
    data: write.to.get(path) as Uint8Array,
  }));
  const updates: ZkOp[] = diff.updates.map((path) => ({
    op: 'set',
    path,
    data: write.to.get(path) as Uint8Array,
  }));
  const all = [...fence, ...removes, ...creates, ...updates, headOp, historyOp];
  for (const op of all) {
    if (opSize(op) > SINGLE_OP_LIMIT_BYTES)
      throw new TransactionTooLargeError(op.path, opSize(op), SINGLE_OP_LIMIT_BYTES);
  }

  if (sizeOf(all) <= TRANSACTION_BUDGET_BYTES) {
    await session.multi(all);
    return { diff, transactions: 1, staged: false, operations: all.length - fence.length };
  }

  // Staged: leaf removals under /config first (children before parents), then creates (parents
  // first), then updates; the final transaction removes what readers find by path, and flips /head.
  const isStageableRemove = (op: ZkOp) =>
    op.path.startsWith(`${layout.configDir()}/`) && !isIndexOrService(layout, op.path, write.from);
  const stagedRemoves = removes.filter(isStageableRemove);
  const finalRemoves = removes.filter((op) => !isStageableRemove(op));
  let transactions = 0;
  for (const batch of batches(
    [...stagedRemoves, ...creates, ...updates],
    TRANSACTION_BUDGET_BYTES - sizeOf(fence),
  )) {
    await session.multi([...fence, ...batch]);
    transactions++;
  }
  const flip = [...fence, ...finalRemoves, headOp, historyOp];
  if (sizeOf(flip) > TRANSACTION_BUDGET_BYTES) {
    throw new TransactionTooLargeError(layout.head(), sizeOf(flip), TRANSACTION_BUDGET_BYTES);
  }
  await session.multi(flip);
  transactions++;
  return { diff, transactions, staged: true, operations: all.length - fence.length };
}

/** Environment index nodes and service folders: readers find these by path, not through an index. */
function isIndexOrService(layout: ZkLayout, path: string, from: ZkInventory): boolean {
  const relative = path.slice(layout.configDir().length + 1);
  const depth = relative.split('/').length;
  // <service> (depth 1) and <service>/<env> (depth 2) are looked up by path.
  return depth <= 2 && from.has(path);
}

function opSize(op: ZkOp): number {
  const data = 'data' in op && op.data ? op.data.length : 0;
  return Buffer.byteLength(op.path) + data + OP_OVERHEAD_BYTES;
}

function sizeOf(ops: readonly ZkOp[]): number {
  let total = 0;
  for (const op of ops) total += opSize(op);
  return total;
}

function* batches(ops: readonly ZkOp[], budget: number): Generator<ZkOp[]> {
  let batch: ZkOp[] = [];
  let size = 0;
  for (const op of ops) {
    const cost = opSize(op);
    if (batch.length > 0 && size + cost > budget) {
      yield batch;
      batch = [];
      size = 0;
    }
    batch.push(op);
    size += cost;
  }
  if (batch.length > 0) yield batch;
}
