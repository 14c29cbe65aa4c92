import { decodeSnapshotRef, type SnapshotRef } from './environment-pointer.js';
import { encodeJson, RecordFields } from './record-fields.js';
import { boundedRevision } from './revision.js';

/**
 * `/assignments/<service>/<env>/<host>`: the snapshot one host serves while the environment's
 * configuration rides the release's rollout (its pointer has `rollout`). Written only by the
 * deployment controller: the new snapshot when the host's step starts, the previous one again on an
 * abort. The agent writes the host's files from it and an SDK instance on the host reads it.
 */
export interface HostAssignmentRecord extends SnapshotRef {
  readonly host: string;
  /** The deployment that assigned it. */
  readonly deployment: string;
  /** When, ISO 8601. */
  readonly at: string;
}

export function encodeHostAssignmentRecord(record: HostAssignmentRecord): Uint8Array {
  return encodeJson({ ...record, revision: boundedRevision(record.revision) });
}

export function decodeHostAssignmentRecord(data: Uint8Array, path?: string): HostAssignmentRecord {
  const fields = RecordFields.parse('host assignment', data, path);
  return {
    host: fields.string('host'),
    ...decodeSnapshotRef(fields),
    deployment: fields.string('deployment', /^d-\d{10}$/),
    at: fields.string('at'),
  };
}
