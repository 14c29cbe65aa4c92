import type { SnapshotRef } from '../records/environment-pointer.js';

export interface DrainAssignmentInput {
  /** The consumer's hosts in the environment. */
  readonly hosts: readonly string[];
  /** The snapshot the consumer's pointer names. */
  readonly pointer: SnapshotRef;
  /** The consumer's files with the deploying hosts draining; undefined while none drains. */
  readonly drained: SnapshotRef | undefined;
  /** The hosts that hold a drain assignment now. */
  readonly assigned: Iterable<string>;
}

/**
 * The snapshot each host of a consumer that drains should be assigned: every host the drained
 * snapshot while hosts drain (even one equal to the pointer's, for files that do not mention the
 * drain: the assignment then says which hosts drain, which a step waits for); otherwise the
 * pointer's own snapshot for every host that holds an assignment. An assignment is never removed while the pointer has `rollout`: a reader
 * orders what it reads by the newest of the pointer's and the assignment's zxids and ignores an older
 * read (core/recipes/environment-watch.ts), so the read that finds an assignment gone would look
 * older than the one that found it, and the host would keep the drained files. Rewriting it with the
 * pointer's snapshot gives it a newer zxid instead, which every reader takes.
 */
export function drainAssignmentsOf(input: DrainAssignmentInput): Map<string, SnapshotRef> {
  const { pointer, drained } = input;
  const out = new Map<string, SnapshotRef>();
  for (const host of input.assigned) out.set(host, pointer);
  if (drained) for (const host of input.hosts) out.set(host, drained);
  return out;
}
