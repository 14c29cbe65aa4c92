import { type AclPolicy, matchesPolicy } from './zk-acl-policy.js';
import type { ZkAcl } from './zookeeper/zk-acl.js';
import { ZkError } from './zookeeper/zk-error.js';
import type { ZkSession } from './zookeeper/zk-session.js';

/** A node whose ACL is not the one the policy gives it. */
export interface AclDrift {
  readonly path: string;
  readonly actual: readonly ZkAcl[];
  readonly expected: readonly ZkAcl[];
  /** The ACL version a repair checks, so that a change made meanwhile is not overwritten blindly. */
  readonly aclVersion: number;
}

/** Requests in flight at once while walking: enough to hide round trips, few enough for one connection. */
const WALK_CONCURRENCY = 256;

/**
 * Every node under the policy's root whose ACL differs from the policy's, in path order, and how
 * many nodes were looked at. Reads each node's ACL and children once; a node that vanishes during
 * the walk (an ephemeral one) is skipped.
 */
export async function findAclDrift(
  session: ZkSession,
  policy: AclPolicy,
): Promise<{ checked: number; drift: AclDrift[] }> {
  const drift: AclDrift[] = [];
  let checked = 0;
  let level = [policy.layout.root];
  while (level.length > 0) {
    const next: string[] = [];
    await forEachBounded(level, async (path) => {
      const [acl, children] = await Promise.all([
        ignoreGone(session.getAcl(path)),
        ignoreGone(session.children(path)),
      ]);
      if (!acl || !children) return;
      checked++;
      const expected = policy.aclFor(path);
      if (!matchesPolicy(acl.acl, expected))
        drift.push({ path, actual: acl.acl, expected, aclVersion: acl.stat.aversion });
      for (const name of children.children) next.push(policy.layout.child(path, name));
    });
    level = next;
  }
  return { checked, drift: drift.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

/**
 * Sets the policy's ACL on every drifted node, each only if its ACL has not changed since it was
 * read. Returns the paths repaired; a node gone or changed meanwhile is left for the next pass.
 */
export async function repairAclDrift(session: ZkSession, drift: readonly AclDrift[]): Promise<string[]> {
  const repaired: string[] = [];
  await forEachBounded(drift, async ({ path, expected, aclVersion }) => {
    try {
      await session.setAcl(path, expected, aclVersion);
      repaired.push(path);
    } catch (error) {
      if (!(error instanceof ZkError && (error.code === 'NO_NODE' || error.code === 'BAD_VERSION')))
        throw error;
    }
  });
  return repaired.sort();
}

async function ignoreGone<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (error instanceof ZkError && error.code === 'NO_NODE') return undefined;
    throw error;
  }
}

async function forEachBounded<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(WALK_CONCURRENCY, items.length) }, worker));
}
