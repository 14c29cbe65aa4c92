import { decodeSnapshotRef, type SnapshotRef } from './environment-pointer.js';
import { encodeJson, RecordFields } from './record-fields.js';
import { boundedRevision } from './revision.js';

/**
 * `/assignments/<service>/<env>/<host>`: the snapshot one host serves while its pointer has
 * `rollout`. Written only by the deployment controller: for a configuration riding the release's
 * rollout, the new snapshot when the host's step starts, the previous one again on an abort; for a
 * consumer that drains during deploys, its files with the deploying hosts draining, then its
 * pointer's snapshot again. The agent writes the host's files from it and an SDK instance on the
 * host reads it.
 */
export interface HostAssignmentRecord extends SnapshotRef {
  readonly host: string;
  /** The deployment that assigned it: a configuration rollout's (a drain's has `drain` instead). */
  readonly deployment?: string;
  /**
   * A drain's assignment: by deploying service, the hosts it drains; empty once it names the
   * pointer's snapshot again (see syncer/deployments/drain-ops.ts).
   */
  readonly drain?: Readonly<Record<string, readonly string[]>>;
  /** When, ISO 8601. */
  readonly at: string;
}

export function encodeHostAssignmentRecord(record: HostAssignmentRecord): Uint8Array {
  return encodeJson({ ...record, revision: boundedRevision(record.revision) });
}

export function decodeHostAssignmentRecord(data: Uint8Array, path?: string): HostAssignmentRecord {
  const fields = RecordFields.parse('host assignment', data, path);
  const drainFields = fields.optionalObject('drain');
  const drain = drainFields
    ? Object.fromEntries(drainFields.keys().map((service) => [service, drainFields.stringArray(service)]))
    : undefined;
  return {
    host: fields.string('host'),
    ...decodeSnapshotRef(fields),
    ...(drain ? { drain } : { deployment: fields.string('deployment', /^d-\d{10}$/) }),
    at: fields.string('at'),
  };
}
