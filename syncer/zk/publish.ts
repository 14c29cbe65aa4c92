import type { FencedWriter, Publication, ZkOp } from '../../core/index.js';
import { mapWithConcurrency, ZkError } from '../../core/index.js';
import { TransactionTooLargeError } from '../errors.js';

/**
 * Bytes one transaction may carry. ZooKeeper refuses requests over jute.maxbuffer (1 MiB by default)
 * and an oversized one can take a server down (ZOOKEEPER-3496), so batches stay well below it.
 */
export const TRANSACTION_BUDGET_BYTES = 900 * 1024;
/**
 * Bytes one staging transaction carries. A server keeps its last 500 transactions in memory
 * (`zookeeper.commitLogCount`, to bring followers up to date): staged in 900 KB transactions, the
 * first mirror of 100,000 files held its content twice in the heap, and a server of 256 MB ran out of
 * memory and dropped every connection. At 128 KB that log holds at most 64 MB.
 */
export const STAGING_BUDGET_BYTES = 128 * 1024;
/** Staging transactions in flight at once: the server writes them to its log together, not one fsync each. */
const STAGING_CONCURRENCY = 4;
/** A single operation may use nearly the whole request: a file at the validator's upper limit. */
const SINGLE_OP_LIMIT_BYTES = 1024 * 1024 - 1024;
/** Per-operation framing in a multi request (op header, path length, version, ACL, flags). */
const OP_OVERHEAD_BYTES = 64;

export interface PublishResult {
  readonly transactions: number;
  /** Whether new content was written ahead of the flip, in transactions of its own. */
  readonly staged: boolean;
  /** Whether the flip itself was too large for one transaction and went in several (see README). */
  readonly splitFlip: boolean;
  readonly operations: number;
}

/**
 * Publishes a commit: `publication.stage` (new content, stray removals) in transactions of up to
 * 128 KB, a few at once, then `publication.flip` together with `final` (`/head`, version-checked,
 * and the history record) in one transaction, all through the leader's fenced writer. A small commit
 * is one transaction altogether.
 *
 * Staging is idempotent: content that already exists (a write whose answer was lost landed) and
 * strays already gone are skipped. Nobody reads staged content before the flip names it, so a crash
 * at any instant leaves readers on the last published snapshot. Only a flip too large for one request
 * (thousands of environments changed at once) is split, pointers first and `/head` last; each
 * environment still flips atomically.
 */
export async function publish(
  writer: FencedWriter,
  publication: Publication,
  final: readonly ZkOp[],
): Promise<PublishResult> {
  const { stage, flip } = publication;
  for (const op of [...stage, ...flip, ...final]) {
    if (opSize(op) > SINGLE_OP_LIMIT_BYTES)
      throw new TransactionTooLargeError(op.path, opSize(op), SINGLE_OP_LIMIT_BYTES);
  }
  const tolerated = toleratedFailures(stage);
  const operations = stage.length + flip.length + final.length;
  const budget = TRANSACTION_BUDGET_BYTES - OP_OVERHEAD_BYTES; // the fence's check

  if (sizeOf(stage) + sizeOf(flip) + sizeOf(final) <= budget) {
    await applyTolerant(writer, [...stage, ...flip, ...final], tolerated);
    return { transactions: 1, staged: false, splitFlip: false, operations };
  }
  // Staged content is read by nobody until the flip names it: its transactions may land in any order.
  const staging = [...batches(stage, STAGING_BUDGET_BYTES - OP_OVERHEAD_BYTES)];
  await mapWithConcurrency(staging, STAGING_CONCURRENCY, (batch) => applyTolerant(writer, batch, tolerated));
  let transactions = staging.length;
  if (sizeOf(flip) + sizeOf(final) <= budget) {
    await writer.multi([...flip, ...final]);
    return { transactions: transactions + 1, staged: true, splitFlip: false, operations };
  }
  const last = [...final];
  const ahead = [...flip];
  // Keep as much of the flip as fits with `/head`, and write the rest first.
  while (ahead.length > 0 && sizeOf(last) + opSize(ahead[ahead.length - 1] as ZkOp) <= budget) {
    last.unshift(ahead.pop() as ZkOp);
  }
  for (const batch of batches(ahead, budget)) {
    await writer.multi(batch);
    transactions++;
  }
  await writer.multi(last);
  return { transactions: transactions + 1, staged: true, splitFlip: true, operations };
}

/** Staged content that exists already, and strays that are gone, are what we wanted. */
function toleratedFailures(stage: readonly ZkOp[]): (op: ZkOp, error: ZkError) => boolean {
  // Built on the first failure only: a set of every staged path is tens of ms on a large commit.
  let staged: Set<string> | undefined;
  return (op, error) => {
    staged ??= new Set(stage.map((staging) => staging.path));
    return (
      staged.has(op.path) &&
      ((op.op === 'create' && error.code === 'NODE_EXISTS') ||
        (op.op === 'remove' && error.code === 'NO_NODE'))
    );
  };
}

/** Applies `ops` in one transaction, leaving out operations whose failure means they are done already. */
async function applyTolerant(
  writer: FencedWriter,
  ops: readonly ZkOp[],
  tolerated: (op: ZkOp, error: ZkError) => boolean,
): Promise<void> {
  let remaining = [...ops];
  while (remaining.length > 0) {
    try {
      await writer.multi(remaining);
      return;
    } catch (error) {
      const index = error instanceof ZkError ? error.opIndex : undefined;
      const op = index === undefined ? undefined : remaining[index];
      if (!op || !tolerated(op, error as ZkError)) throw error;
      remaining = remaining.filter((_, i) => i !== index);
    }
  }
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
