import { encodeJson, RecordFields } from './record-fields.js';

/**
 * `/deployments/<service>/<env>/<id>/claims/<host>` (ephemeral): the agent running the host's task.
 * It lives as long as that agent's session: when the agent dies, the node goes with its session and
 * the controller marks the task lost at once, never after a long timeout.
 */
export interface DeploymentClaimRecord {
  readonly host: string;
  /** The agent's ZooKeeper session id (hex). */
  readonly session: string;
  readonly pid: number;
  readonly at: string;
}

export function encodeDeploymentClaimRecord(record: DeploymentClaimRecord): Uint8Array {
  return encodeJson(record);
}

export function decodeDeploymentClaimRecord(data: Uint8Array, path?: string): DeploymentClaimRecord {
  const fields = RecordFields.parse('deployment claim', data, path);
  return {
    host: fields.string('host'),
    session: fields.string('session'),
    pid: fields.integer('pid', 0),
    at: fields.string('at'),
  };
}
