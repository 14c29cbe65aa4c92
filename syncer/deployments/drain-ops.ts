import type { Logger } from 'pino';
import {
  type DrainedSnapshots,
  type DrainingHosts,
  decodeEnvironmentPointer,
  decodeHeadRecord,
  decodeServiceRecord,
  drainAssignmentsOf,
  encodeHostAssignmentRecord,
  type FencedWriter,
  type SnapshotRef,
  ZkError,
  type ZkLayout,
  type ZkOp,
  type ZkSession,
  type ZkWatcher,
} from '../../core/index.js';
import { heldAssignments, pinWrites } from './host-assignment-ops.js';

/** What the controller needs of the leader's mirror: the consumers' files rendered with hosts draining. */
export interface DrainRenderer {
  /** Undefined while this replica has not loaded `commit` (see Mirror.drainedSnapshots). */
  drainedSnapshots(env: string, commit: string, draining: DrainingHosts): DrainedSnapshots | undefined;
}

export interface EnvironmentDrain {
  readonly session: ZkSession;
  readonly writer: FencedWriter;
  readonly layout: ZkLayout;
  readonly logger: Logger;
  readonly renderer: DrainRenderer;
  readonly env: string;
  /** By deploying service, its hosts that drain now (core's `drainingHostsOf`, over its open deployments). */
  readonly draining: DrainingHosts;
  /** The consumers that hold drain assignments in `env` (their drain pins). */
  readonly pinned: readonly string[];
  /** Set on every consumer's pointer: a new commit of its files renders again. */
  readonly watch: ZkWatcher;
  readonly now: Date;
}

/**
 * Brings the drain of one environment up to date: for every consumer that opted in and depends on a
 * service with draining hosts, its drained files are published as content (content-addressed: an
 * unchanged drain writes nothing), pinned (`/pins/drain@<consumer>@<env>`) and assigned to each of
 * its hosts; a consumer nothing drains any more gets its pointer's snapshot back. Returns false when
 * it must be tried again: the mirror has not loaded the commit yet, or something moved meanwhile.
 *
 * Rules: a consumer whose configuration rides its own rollout (`configRollout: with-release`) is
 * never drained, as its assignments are the rollout's. Drained files are rendered from the commit
 * `/head` names for the environment, and each write is checked against `/head`'s version, so a
 * drain never assigns the files of a commit the pointer has moved past.
 */
export async function reconcileEnvironmentDrain(drain: EnvironmentDrain): Promise<boolean> {
  const { session, layout, env, draining, logger } = drain;
  const consumers = new Set(drain.pinned);
  let rendered: { drained: DrainedSnapshots; head: number; revision: SnapshotRef['revision'] } | undefined;
  if ([...draining.values()].some((hosts) => hosts.size > 0)) {
    const headNode = await session.getIfExists(layout.head());
    const revision = headNode ? decodeHeadRecord(headNode.data, layout.head()).environments[env] : undefined;
    if (!headNode || !revision) return true; // nothing mirrored serves the environment
    const drained = drain.renderer.drainedSnapshots(env, revision.commit, draining);
    if (!drained) return false;
    rendered = { drained, head: headNode.stat.version, revision };
    for (const consumer of drained.snapshots.keys()) consumers.add(consumer);
    for (const [consumer, errors] of drained.failures) {
      consumers.add(consumer);
      logger.warn(
        { service: consumer, env, errors: errors.slice(0, 5) },
        `${consumer}/${env} is not drained: its templates fail with hosts draining`,
      );
    }
  }
  let done = true;
  for (const consumer of [...consumers].sort()) {
    const { ops, draining: hosts } = await consumerOps(drain, consumer, rendered);
    if (ops.length === 0) continue;
    try {
      await drain.writer.multi(ops);
    } catch (error) {
      // A commit was mirrored, or a node changed, since it was read: the next pass reads again.
      if (error instanceof ZkError && error.stale) {
        done = false;
        continue;
      }
      throw error;
    }
    logger.info(
      { service: consumer, env, draining: hosts },
      `drain assignments of ${consumer}/${env} updated`,
    );
  }
  return done;
}

/**
 * By deploying service the consumer depends on, the hosts that drain in its drained files (none when
 * it has none): what a step waits for (DeploymentController.drainApplied).
 */
function drainingOf(
  drain: EnvironmentDrain,
  consumer: string,
  dependsOn: readonly string[],
  rendered: { drained: DrainedSnapshots } | undefined,
): Record<string, string[]> {
  if (!rendered?.drained.snapshots.has(consumer)) return {};
  return Object.fromEntries(
    [...drain.draining]
      .filter(([service, hosts]) => hosts.size > 0 && dependsOn.includes(service))
      .map(([service, hosts]) => [service, [...hosts].sort()]),
  );
}

async function consumerOps(
  drain: EnvironmentDrain,
  consumer: string,
  rendered: { drained: DrainedSnapshots; head: number; revision: SnapshotRef['revision'] } | undefined,
): Promise<{ ops: ZkOp[]; draining: Record<string, string[]> }> {
  const { session, layout, env } = drain;
  const serviceNode = await session.getIfExists(layout.service(consumer));
  const record = serviceNode ? decodeServiceRecord(serviceNode.data, layout.service(consumer)) : undefined;
  const environment = record?.environments[env];
  const pointerPath = layout.environment(consumer, env);
  const pointerNode = await session.getWatched(pointerPath, drain.watch);
  const pointer = pointerNode ? decodeEnvironmentPointer(pointerNode.data, pointerPath) : undefined;
  const held = await heldAssignments(session, layout, consumer, env);
  const pinPath = layout.drainPin(consumer, env);
  const pin = await session.getIfExists(pinPath);

  const opted = environment?.drainDuringDeploys === true && environment.configRollout !== 'with-release';
  if (!opted || !pointer?.rollout) {
    // Readers ignore assignments while the pointer has no `rollout`: the drain's can simply go.
    const ops: ZkOp[] = [];
    for (const [host, current] of held)
      if (current.record?.drain !== undefined || opted)
        ops.push({ op: 'remove', path: layout.assignment(consumer, env, host), version: current.version });
    if (pin) ops.push({ op: 'remove', path: pinPath, version: pin.stat.version });
    return { ops, draining: {} };
  }

  const snapshot = rendered?.drained.snapshots.get(consumer);
  const drained =
    snapshot && rendered ? { manifest: snapshot.manifestId, revision: rendered.revision } : undefined;
  const hosts = environment.hosts.map((h) => h.host);
  const wanted = drainAssignmentsOf({
    hosts,
    pointer: { manifest: pointer.manifest, revision: pointer.revision },
    drained,
    assigned: held.keys(),
  });
  const draining = drainingOf(drain, consumer, record?.dependsOn ?? [], rendered);
  const at = drain.now.toISOString();
  const ops: ZkOp[] = [];
  const usesDrained = drained !== undefined && drained.manifest !== pointer.manifest;
  for (const [host, ref] of wanted) {
    const hostDrain = drained ? draining : {};
    const current = held.get(host);
    if (
      current?.record?.manifest === ref.manifest &&
      JSON.stringify(current.record.drain) === JSON.stringify(hostDrain) &&
      current.record.revision.commit === ref.revision.commit
    )
      continue;
    const data = encodeHostAssignmentRecord({ host, ...ref, drain: hostDrain, at });
    const path = layout.assignment(consumer, env, host);
    ops.push(current ? { op: 'set', path, data, version: current.version } : { op: 'create', path, data });
  }
  // The pin lists the drained snapshot while one is assigned, and lasts while any drain assignment does.
  const pinned = usesDrained && drained ? [drained.manifest] : [];
  const pinOps = pinWrites(
    pinPath,
    pin,
    wanted.size > 0 ? pinned : undefined,
    drainPinWhy(consumer, env, at),
  );
  if (ops.length === 0 && pinOps.length === 0) return { ops: [], draining };
  const folderOps: ZkOp[] = [];
  if (wanted.size > 0 && !(await session.exists(layout.assignments(consumer, env)))) {
    if (!(await session.exists(layout.assignmentsService(consumer))))
      folderOps.push({ op: 'create', path: layout.assignmentsService(consumer) });
    folderOps.push({ op: 'create', path: layout.assignments(consumer, env) });
  }
  const contentOps: ZkOp[] = [];
  if (drained && snapshot && rendered) {
    for (const [id, bytes] of snapshot.contents)
      if (!(await session.exists(layout.content(id))))
        contentOps.push({ op: 'create', path: layout.content(id), data: bytes });
    // Ties the drained files to the commit they were rendered from: a commit mirrored since fails it.
    contentOps.push({ op: 'check', path: layout.head(), version: rendered.head });
  }
  // Content, its pin and the assignments naming it in one transaction: collection never sees the
  // content unreferenced, and a reader never sees an assignment whose content is missing.
  return { ops: [...contentOps, ...folderOps, ...ops, ...pinOps], draining };
}

/**
 * The writes that hand a service's configuration-rollout assignments over to the drain, once it
 * stops riding its release (`configRollout: with-release`) to drain as a consumer: every assignment
 * its rollout left becomes a drain assignment of its pointer's snapshot (rewritten rather than
 * removed, for the reason `drainAssignmentsOf` gives), the drain pin is created so the drain keeps
 * them from then on, and the rollout's pin goes — nothing reads the snapshots it kept any more.
 * Without `rollout` on the pointer, readers ignore assignments: they are removed with the pin.
 */
export async function adoptRolloutAssignments(
  session: ZkSession,
  layout: ZkLayout,
  service: string,
  env: string,
  now: Date,
): Promise<ZkOp[]> {
  const rolloutPin = await session.getIfExists(layout.configRolloutPin(service, env));
  if (!rolloutPin) return [];
  const pointerPath = layout.environment(service, env);
  const pointerNode = await session.getIfExists(pointerPath);
  const pointer = pointerNode ? decodeEnvironmentPointer(pointerNode.data, pointerPath) : undefined;
  const ops: ZkOp[] = [];
  const at = now.toISOString();
  const held = await heldAssignments(session, layout, service, env);
  for (const [host, current] of held) {
    const path = layout.assignment(service, env, host);
    if (!pointer?.rollout) ops.push({ op: 'remove', path, version: current.version });
    else if (current.record?.drain === undefined) {
      const ref = { manifest: pointer.manifest, revision: pointer.revision };
      ops.push({
        op: 'set',
        path,
        data: encodeHostAssignmentRecord({ host, ...ref, drain: {}, at }),
        version: current.version,
      });
    }
  }
  const drainPin = layout.drainPin(service, env);
  if (pointer?.rollout && held.size > 0 && !(await session.exists(drainPin)))
    ops.push(...pinWrites(drainPin, undefined, [], drainPinWhy(service, env, at)));
  ops.push({ op: 'remove', path: layout.configRolloutPin(service, env), version: rolloutPin.stat.version });
  return ops;
}

function drainPinWhy(consumer: string, env: string, at: string) {
  return {
    owner: `drain of ${consumer}/${env}`,
    reason: 'the drained snapshot its hosts are assigned; the pin lasts while any drain assignment does',
    at,
  };
}
