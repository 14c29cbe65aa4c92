import type { DeploymentConfig, DeploymentRecord } from '../records/deployment-record.js';
import type { DeploymentTaskRecord } from '../records/deployment-task-record.js';
import type { EnvironmentPointer, SnapshotRef } from '../records/environment-pointer.js';

/**
 * The configuration a new deployment of an environment rolls out, or undefined when its files do
 * not ride the rollout (its pointer has no `rollout`) or nothing is to roll out. `newest` is the
 * environment's newest deployment: hosts not reached keep what its rollout left them — its target
 * when it succeeded, else its own previous snapshot.
 */
export function configToRollOut(
  pointer: EnvironmentPointer | undefined,
  newest: DeploymentRecord | undefined,
): DeploymentConfig | undefined {
  if (!pointer?.rollout) return undefined;
  const target: SnapshotRef = { manifest: pointer.manifest, revision: pointer.revision };
  const previous = newest?.config
    ? newest.state === 'succeeded'
      ? newest.config.target
      : newest.config.previous
    : pointer.rollout.baseline;
  return { target, ...(previous ? { previous } : {}) };
}

/** Whether the environment's pointer names configuration the newest deployment does not roll out. */
export function configChanged(pointer: EnvironmentPointer | undefined, newest: DeploymentRecord): boolean {
  if (!pointer?.rollout) return false;
  if (newest.config) return newest.config.target.manifest !== pointer.manifest;
  // Riding the rollout is new: only a change held back at the baseline needs one.
  const baseline = pointer.rollout.baseline;
  return baseline !== undefined && baseline.manifest !== pointer.manifest;
}

/**
 * The snapshot each host should serve under the environment's newest deployment: hosts its rollout
 * reached (a task created and not skipped or cancelled) the target, the others the previous
 * snapshot; every host the previous one once it is aborted; hosts added to the environment after
 * it succeeded, the target. A host absent from the result has no assignment (it serves the
 * pointer's baseline, else its newest snapshot).
 */
export function hostAssignmentsOf(
  deployment: DeploymentRecord,
  tasks: ReadonlyMap<string, DeploymentTaskRecord>,
  hosts: readonly string[],
): Map<string, SnapshotRef> {
  const out = new Map<string, SnapshotRef>();
  const { config } = deployment;
  if (!config) return out;
  const planned = new Set(deployment.plan.steps.flatMap((step) => step.hosts));
  for (const host of new Set([...planned, ...hosts])) {
    const task = tasks.get(host);
    const reached =
      deployment.state !== 'aborted' &&
      (task
        ? task.state !== 'skipped' && task.state !== 'cancelled'
        : deployment.state === 'succeeded' && !planned.has(host));
    const snapshot = reached ? config.target : config.previous;
    if (snapshot) out.set(host, snapshot);
  }
  return out;
}

/**
 * The manifests an environment's rollout still serves to some host: what its pin keeps. The
 * baseline counts only while a host of the environment has no assignment (once every host has one,
 * nobody reads it: a host added later is assigned by the controller).
 */
export function pinnedSnapshotsOf(
  assignments: ReadonlyMap<string, SnapshotRef>,
  pointer: EnvironmentPointer | undefined,
  hosts: readonly string[],
): string[] {
  const ids = new Set<string>();
  for (const snapshot of assignments.values()) ids.add(snapshot.manifest);
  const baseline = pointer?.rollout?.baseline;
  if (baseline && hosts.some((host) => !assignments.has(host))) ids.add(baseline.manifest);
  if (pointer) ids.delete(pointer.manifest);
  return [...ids].sort();
}
