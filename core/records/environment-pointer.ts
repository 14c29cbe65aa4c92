import { CONTENT_ID } from '../zk-layout.js';
import { encodeJson, RecordFields } from './record-fields.js';
import { boundedRevision, decodeRevision, type Revision } from './revision.js';

/**
 * `/config/<service>/<env>`: the one node a reader of an environment watches. It names the snapshot
 * the environment serves — the content id of its manifest — and the revision that last changed it.
 * The syncer rewrites it only when the environment's files change, so a commit to one service wakes
 * no reader of another.
 */
export interface EnvironmentPointer {
  /** The commit (and tag) at which the environment's files became what the manifest lists. */
  readonly revision: Revision;
  /** Content id of the environment's manifest (`/content/…`): which file has which content. */
  readonly manifest: string;
  /** How many files the manifest lists, and their total size: for status displays. */
  readonly files: number;
  readonly bytes: number;
  /**
   * Present when a change of the environment's files rides the release's rollout
   * (`configRollout: with-release`): a host then serves the snapshot its assignment names
   * (`/assignments/<service>/<env>/<host>`, written by the deployment controller), else `baseline`,
   * else `manifest`. The syncer sets `baseline` to the snapshot served before, in the same
   * transaction that moves `manifest`, so no host takes a change before the rollout reaches it.
   * A consumer that drains during deploys (`drainDuringDeploys`) has it too, never with a baseline:
   * its hosts serve the drained snapshot the controller assigns them, else `manifest`.
   */
  readonly rollout?: { readonly baseline?: SnapshotRef };
}

/** One snapshot of an environment: its manifest's content id and the revision that made it. */
export interface SnapshotRef {
  readonly manifest: string;
  readonly revision: Revision;
}

export function encodeEnvironmentPointer(pointer: EnvironmentPointer): Uint8Array {
  const baseline = pointer.rollout?.baseline;
  return encodeJson({
    ...pointer,
    revision: boundedRevision(pointer.revision),
    ...(pointer.rollout
      ? {
          rollout: baseline
            ? { baseline: { ...baseline, revision: boundedRevision(baseline.revision) } }
            : {},
        }
      : {}),
  });
}

export function decodeEnvironmentPointer(data: Uint8Array, path?: string): EnvironmentPointer {
  const fields = RecordFields.parse('environment pointer', data, path);
  const rollout = fields.optionalObject('rollout');
  const baseline = rollout?.optionalObject('baseline');
  return {
    revision: decodeRevision(fields.object('revision')),
    manifest: fields.string('manifest', CONTENT_ID),
    files: fields.integer('files', 0),
    bytes: fields.integer('bytes', 0),
    ...(rollout ? { rollout: baseline ? { baseline: decodeSnapshotRef(baseline) } : {} } : {}),
  };
}

/** A snapshot reference held in a record's field (a pointer's baseline, a host's assignment). */
export function decodeSnapshotRef(fields: RecordFields): SnapshotRef {
  return {
    manifest: fields.string('manifest', CONTENT_ID),
    revision: decodeRevision(fields.object('revision')),
  };
}
