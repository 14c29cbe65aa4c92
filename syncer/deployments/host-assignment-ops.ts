import {
  decodeHostAssignmentRecord,
  decodePinRecord,
  type EnvironmentPointer,
  encodeHostAssignmentRecord,
  encodePinRecord,
  type HostAssignmentRecord,
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
  const held = await heldAssignments(session, layout, service, env);
  const ops: ZkOp[] = [];
  if (wanted.size > 0 && !(await session.exists(folder))) {
    if (!(await session.exists(layout.assignmentsService(service))))
      ops.push({ op: 'create', path: layout.assignmentsService(service) });
    ops.push({ op: 'create', path: folder });
  }
  const at = target.now.toISOString();
  for (const [host, snapshot] of wanted) {
    const current = held.get(host);
    if (current?.record?.manifest === snapshot.manifest) continue;
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
  return pinWrites(path, await session.getIfExists(path), snapshots.length > 0 ? snapshots : undefined, {
    owner: `configuration rollout of ${target.service}/${target.env}`,
    reason: `deployment ${target.deployment}: snapshots hosts still serve`,
    at: target.now.toISOString(),
  });
}

/** The assignments an environment's hosts hold, by host; `record` undefined for one damaged by hand. */
export async function heldAssignments(
  session: ZkSession,
  layout: ZkLayout,
  service: string,
  env: string,
): Promise<Map<string, { record: HostAssignmentRecord | undefined; version: number }>> {
  const held = new Map<string, { record: HostAssignmentRecord | undefined; version: number }>();
  for (const host of await session.childrenIfExists(layout.assignments(service, env))) {
    const path = layout.assignment(service, env, host);
    const node = await session.getIfExists(path);
    if (!node) continue;
    let record: HostAssignmentRecord | undefined;
    try {
      record = decodeHostAssignmentRecord(node.data, path);
    } catch {
      record = undefined; // damaged by hand: rewritten like any assignment that differs
    }
    held.set(host, { record, version: node.stat.version });
  }
  return held;
}

/**
 * The writes that make the pin at `path` list `snapshots` (undefined: no pin), version-checked
 * against `node` as read; none when it already does. A pin damaged by hand is rewritten.
 */
export function pinWrites(
  path: string,
  node: { readonly data: Uint8Array; readonly stat: { readonly version: number } } | undefined,
  snapshots: readonly string[] | undefined,
  why: { readonly owner: string; readonly reason: string; readonly at: string },
): ZkOp[] {
  if (!snapshots) return node ? [{ op: 'remove', path, version: node.stat.version }] : [];
  let pinned: readonly string[] | undefined;
  try {
    pinned = node ? decodePinRecord(node.data, path).snapshots : undefined;
  } catch {
    pinned = undefined; // damaged: rewritten
  }
  if (pinned && pinned.join() === snapshots.join()) return [];
  const data = encodePinRecord({ owner: why.owner, reason: why.reason, createdAt: why.at, snapshots });
  return node ? [{ op: 'set', path, data, version: node.stat.version }] : [{ op: 'create', path, data }];
}
