import type { SteeringAction } from '../manifests.js';
import { encodeJson, RecordFields } from './record-fields.js';

export type ControlAction = SteeringAction;

export const CONTROL_ACTIONS: readonly ControlAction[] = ['pause', 'resume', 'skip', 'abort', 'retry'];

/**
 * Where an action was asked for, when not on the command line: a comment on the release's pull
 * request. Its id makes a redelivered comment recognisable, so it is recorded once.
 */
export interface ControlSource {
  readonly kind: 'github-comment';
  readonly commentId: number;
  readonly url: string;
}

/**
 * `/deployments/<service>/<env>/<id>/control/action-<seq>`: an operator's steering of a deployment,
 * with who, when and why. ZooKeeper numbers them; the controller applies each once, in order, and
 * records the last number it applied in the deployment.
 */
export interface DeploymentControlRecord {
  readonly action: ControlAction;
  /** The host, for `skip`. */
  readonly host?: string;
  readonly by: string;
  readonly at: string;
  readonly reason?: string;
  /** Absent for `cairn deploy`; the comment, for a `/cairn …` comment the bot recorded. */
  readonly source?: ControlSource;
}

export function encodeDeploymentControlRecord(record: DeploymentControlRecord): Uint8Array {
  return encodeJson(record);
}

export function decodeDeploymentControlRecord(data: Uint8Array, path?: string): DeploymentControlRecord {
  const fields = RecordFields.parse('deployment control', data, path);
  const action = fields.string('action');
  if (!CONTROL_ACTIONS.includes(action as ControlAction))
    throw fields.fail('action', `must be one of ${CONTROL_ACTIONS.join(', ')}`);
  const host = fields.optionalString('host');
  if (action === 'skip' && host === undefined) throw fields.fail('host', 'is required to skip');
  const reason = fields.optionalString('reason');
  const source = fields.optionalObject('source');
  if (source && source.string('kind') !== 'github-comment')
    throw source.fail('kind', 'must be github-comment');
  return {
    action: action as ControlAction,
    ...(host !== undefined ? { host } : {}),
    by: fields.string('by'),
    at: fields.string('at'),
    ...(reason !== undefined ? { reason } : {}),
    ...(source
      ? {
          source: {
            kind: 'github-comment',
            commentId: source.integer('commentId', 1),
            url: source.string('url'),
          },
        }
      : {}),
  };
}
