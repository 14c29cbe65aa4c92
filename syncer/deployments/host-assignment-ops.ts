import {
  decodeHostAssignmentRecord,
  decodePinRecord,
  type EnvironmentPointer,
  encodeHostAssignmentRecord,
  encodePinRecord,
  pinnedSnapshotsOf,
  type SnapshotRef,
  type ZkLayout,
  type ZkOp,
  type ZkSession,
} from '../../core/index.js';

export interface HostAssignmentTarget {
  readonly service: string;
  readonly env: string;
  /** The deployment whose rollout decides. */
  readonly deployment: string;
  /** The snapshot each host should serve (core's `hostAssignmentsOf`); empty: no host has one. */
  readonly wanted: ReadonlyMap<string, SnapshotRef>;
  readonly pointer: EnvironmentPointer | undefined;
  /** The environment's hosts in the service tree. */
  readonly hosts: readonly string[];
  readonly now: Date;
}

/**
 * The writes that make an environment's host assignments and its rollout pin what `wanted` says:
 * an assignment created, moved or removed only where it differs, each version-checked against what
 * was read, so the controller can put them in the transaction that starts a step or aborts.
 */
export async function hostAssignmentOps(
  session: ZkSession,
  layout: ZkLayout,
  target: HostAssignmentTarget,
): Promise<ZkOp[]> {
  const { service, env, wanted } = target;
  const folder = layout.assignments(service, env);
  const names = await session.childrenIfExists(folder);
  const ops: ZkOp[] = [];
  if (wanted.size > 0 && !(await session.exists(folder))) {
    if (!(await session.exists(layout.assignmentsService(service))))
      ops.push({ op: 'create', path: layout.assignmentsService(service) });
    ops.push({ op: 'create', path: folder });
  }
  const at = target.now.toISOString();
  const held = new Map<string, { manifest: string; version: number }>();
  for (const host of names) {
    const path = layout.assignment(service, env, host);
    const node = await session.getIfExists(path);
    if (!node) continue;
    let manifest = '';
    try {
      manifest = decodeHostAssignmentRecord(node.data, path).manifest;
    } catch {
      // Damaged by hand: rewritten below like any assignment that differs.
    }
    held.set(host, { manifest, version: node.stat.version });
  }
  for (const [host, snapshot] of wanted) {
    const current = held.get(host);
    if (current?.manifest === snapshot.manifest) continue;
    const data = encodeHostAssignmentRecord({ host, ...snapshot, deployment: target.deployment, at });
    const path = layout.assignment(service, env, host);
    ops.push(current ? { op: 'set', path, data, version: current.version } : { op: 'create', path, data });
  }
  for (const [host, current] of held)
    if (!wanted.has(host))
      ops.push({ op: 'remove', path: layout.assignment(service, env, host), version: current.version });
  ops.push(...(await pinOps(session, layout, target)));
  return ops;
}

/** The environment's rollout pin keeps every snapshot a host still serves from collection. */
async function pinOps(session: ZkSession, layout: ZkLayout, target: HostAssignmentTarget): Promise<ZkOp[]> {
  const path = layout.configRolloutPin(target.service, target.env);
  const snapshots = pinnedSnapshotsOf(target.wanted, target.pointer, target.hosts);
  const node = await session.getIfExists(path);
  if (snapshots.length === 0) return node ? [{ op: 'remove', path, version: node.stat.version }] : [];
  let pinned: readonly string[] | undefined;
  try {
    pinned = node ? decodePinRecord(node.data, path).snapshots : undefined;
  } catch {
    pinned = undefined; // damaged: rewritten
  }
  if (pinned && pinned.join() === snapshots.join()) return [];
  const data = encodePinRecord({
    owner: `configuration rollout of ${target.service}/${target.env}`,
    reason: `deployment ${target.deployment}: snapshots hosts still serve`,
    createdAt: target.now.toISOString(),
    snapshots,
  });
  return node ? [{ op: 'set', path, data, version: node.stat.version }] : [{ op: 'create', path, data }];
}
