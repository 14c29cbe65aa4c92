import { CONTROL_ACTIONS, type ControlAction } from './deployment-control-record.js';
import { decodeSnapshotRef, type SnapshotRef } from './environment-pointer.js';
import { encodeJson, RecordFields } from './record-fields.js';
import { decodeReleaseFields, type ReleaseRecord } from './release-record.js';

/**
 * pending → progressing (step) ⇄ paused (canary, manual, budget) → succeeded | failed (reason) |
 * aborted | superseded. The last four are terminal: no new task starts, tasks in flight finish.
 */
export type DeploymentState =
  | 'pending'
  | 'progressing'
  | 'paused'
  | 'succeeded'
  | 'failed'
  | 'aborted'
  | 'superseded';

export const DEPLOYMENT_STATES: readonly DeploymentState[] = [
  'pending',
  'progressing',
  'paused',
  'succeeded',
  'failed',
  'aborted',
  'superseded',
];

/**
 * Why a deployment waits: after the canary (the strategy says so), an operator, a spent failure
 * budget, or consumers that did not apply the drain of the next step's hosts in time.
 */
export type PauseReason = 'canary' | 'manual' | 'budget' | 'drain';

const PAUSE_REASONS: readonly PauseReason[] = ['canary', 'manual', 'budget', 'drain'];

export function isTerminalDeployment(state: DeploymentState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'aborted' || state === 'superseded';
}

/** The release a deployment rolls out: the manifest, and the commit that set it, who wrote and approved it. */
export interface DeploymentRelease {
  readonly version: string;
  readonly commit: string;
  readonly author: { readonly name: string; readonly email: string };
  /** Logins of those who approved the merge, from the commit's approval record (empty when none is known). */
  readonly approvals: readonly string[];
  readonly manifest: ReleaseRecord;
}

/**
 * The configuration a deployment rolls out when its environment's files ride the release's rollout
 * (`configRollout: with-release`): when a host's step starts, the controller assigns it `target`.
 */
export interface DeploymentConfig {
  readonly target: SnapshotRef;
  /**
   * The snapshot the last completed rollout left on every host: hosts not reached keep it, and an
   * abort returns every host to it. Absent when none is known (the first rollout seen).
   */
  readonly previous?: SnapshotRef;
}

/** One step of the rollout: the canary, or a batch. */
export interface DeploymentStep {
  readonly kind: 'canary' | 'batch';
  readonly hosts: readonly string[];
}

/** The rollout as planned when the deployment was created (core/release-rollout.ts, as the bot's plan). */
export interface DeploymentPlan {
  readonly steps: readonly DeploymentStep[];
  readonly bakeSeconds: number;
  readonly pauseAfterCanary: boolean;
  readonly pauseBetweenBatchesSeconds: number;
  readonly maxFailedHosts: number;
  readonly progressDeadlineSeconds: number;
}

/**
 * A control action the controller did not apply because policy.yaml does not allow its actor: who
 * asked, when and why, and which rule refused it.
 */
export interface RejectedControl {
  readonly seq: number;
  readonly action: ControlAction;
  readonly host?: string;
  readonly by: string;
  readonly at: string;
  readonly reason?: string;
  readonly rejectedAt: string;
  /** The rule's refusal, naming who may. */
  readonly rejection: string;
}

/** A change of the deployment's state or step, with when and who (the controller, or an operator). */
export interface DeploymentTransition {
  readonly at: string;
  readonly actor: string;
  readonly state: DeploymentState;
  readonly step: number;
  readonly reason?: string;
}

/**
 * `/deployments/<service>/<env>/<id>`: a release rolled out to an environment's hosts. Every timer
 * derives from times stored here and in the tasks, so a controller that takes over continues exactly.
 */
export interface DeploymentRecord {
  readonly id: string;
  readonly service: string;
  readonly env: string;
  readonly createdAt: string;
  readonly release: DeploymentRelease;
  /** The configuration rolled out with the release, when the environment's files ride it. */
  readonly config?: DeploymentConfig;
  /** Only the configuration changed: a host's task applies the snapshot, no deploy command runs. */
  readonly configOnly?: boolean;
  /** The version the environment ran before (the previous deployment's), when known. */
  readonly previousVersion?: string;
  readonly plan: DeploymentPlan;
  readonly state: DeploymentState;
  readonly pauseReason?: PauseReason;
  /** Why it failed, was aborted or superseded, or was recorded as already done. */
  readonly reason?: string;
  /** Index of the current step in `plan.steps`. */
  readonly step: number;
  /** When the current step's tasks were created; absent while the step waits to start. */
  readonly stepStartedAt?: string;
  /** The current step may not start before this (bake time, pause between batches). */
  readonly nextStepAt?: string;
  /** When the deployment was last resumed: the progress deadline counts from here or the step's start. */
  readonly resumedAt?: string;
  /**
   * While the current step waits for the consumers that drain to apply the drain of its hosts: when
   * it stops waiting and pauses (reason `drain`).
   */
  readonly drainDeadline?: string;
  /** A step an operator resumed after a `drain` pause: it starts without waiting for the drain. */
  readonly drainWaived?: number;
  /** Failed hosts tolerated: the plan's budget, raised by a resume after a budget halt. */
  readonly failureAllowance: number;
  /** Hosts an operator skipped before their step started: their tasks are created skipped. */
  readonly skipped: readonly string[];
  /** Sequence number of the last control action applied; -1 before any. */
  readonly controlSeq: number;
  /** Terminal, and every task finished: nothing can change any more, the controller stops looking. */
  readonly settled?: boolean;
  /** The last MAX_TRANSITIONS state changes, oldest first. */
  readonly transitions: readonly DeploymentTransition[];
  /** The last MAX_REJECTED control actions the policy did not allow, oldest first. */
  readonly rejected?: readonly RejectedControl[];
}

export const MAX_TRANSITIONS = 100;
export const MAX_REJECTED = 20;

export function encodeDeploymentRecord(record: DeploymentRecord): Uint8Array {
  return encodeJson({
    ...record,
    transitions: record.transitions.slice(-MAX_TRANSITIONS),
    ...(record.rejected ? { rejected: record.rejected.slice(-MAX_REJECTED) } : {}),
  });
}

export function decodeDeploymentRecord(data: Uint8Array, path?: string): DeploymentRecord {
  const fields = RecordFields.parse('deployment', data, path);
  const release = fields.object('release');
  const author = release.object('author');
  const plan = fields.object('plan');
  const previousVersion = fields.optionalString('previousVersion');
  const pauseReason = fields.optionalString('pauseReason');
  if (pauseReason !== undefined && !PAUSE_REASONS.includes(pauseReason as PauseReason))
    throw fields.fail('pauseReason', `must be one of ${PAUSE_REASONS.join(', ')}`);
  const reason = fields.optionalString('reason');
  const stepStartedAt = fields.optionalString('stepStartedAt');
  const nextStepAt = fields.optionalString('nextStepAt');
  const resumedAt = fields.optionalString('resumedAt');
  const settled = fields.optionalBoolean('settled');
  const drainDeadline = fields.optionalString('drainDeadline');
  const drainWaived = fields.optionalInteger('drainWaived', 0);
  const config = fields.optionalObject('config');
  const previousConfig = config?.optionalObject('previous');
  const configOnly = fields.optionalBoolean('configOnly');
  const steps = plan.array('steps', (step) => {
    const kind = step.string('kind');
    if (kind !== 'canary' && kind !== 'batch') throw step.fail('kind', 'must be canary or batch');
    return { kind, hosts: step.stringArray('hosts') } as DeploymentStep;
  });
  const step = fields.integer('step', 0);
  if (step > Math.max(0, steps.length - 1)) throw fields.fail('step', 'is past the last step of the plan');
  return {
    id: fields.string('id', /^d-\d{10}$/),
    service: fields.string('service'),
    env: fields.string('env'),
    createdAt: fields.string('createdAt'),
    release: {
      version: release.string('version'),
      commit: release.string('commit'),
      author: { name: author.string('name'), email: author.string('email') },
      approvals: release.stringArray('approvals'),
      manifest: decodeReleaseFields(release.object('manifest')),
    },
    ...(config
      ? {
          config: {
            target: decodeSnapshotRef(config.object('target')),
            ...(previousConfig ? { previous: decodeSnapshotRef(previousConfig) } : {}),
          },
        }
      : {}),
    ...(configOnly ? { configOnly } : {}),
    ...(previousVersion !== undefined ? { previousVersion } : {}),
    plan: {
      steps,
      bakeSeconds: plan.integer('bakeSeconds', 0),
      pauseAfterCanary: plan.boolean('pauseAfterCanary'),
      pauseBetweenBatchesSeconds: plan.integer('pauseBetweenBatchesSeconds', 0),
      maxFailedHosts: plan.integer('maxFailedHosts', 0),
      progressDeadlineSeconds: plan.integer('progressDeadlineSeconds', 1),
    },
    state: deploymentState(fields, 'state'),
    ...(pauseReason !== undefined ? { pauseReason: pauseReason as PauseReason } : {}),
    ...(reason !== undefined ? { reason } : {}),
    step,
    ...(stepStartedAt !== undefined ? { stepStartedAt } : {}),
    ...(nextStepAt !== undefined ? { nextStepAt } : {}),
    ...(resumedAt !== undefined ? { resumedAt } : {}),
    ...(drainDeadline !== undefined ? { drainDeadline } : {}),
    ...(drainWaived !== undefined ? { drainWaived } : {}),
    failureAllowance: fields.integer('failureAllowance', 0),
    skipped: fields.stringArray('skipped'),
    controlSeq: fields.integer('controlSeq', -1),
    ...(settled ? { settled } : {}),
    transitions: fields.array('transitions', (t) => {
      const why = t.optionalString('reason');
      return {
        at: t.string('at'),
        actor: t.string('actor'),
        state: deploymentState(t, 'state'),
        step: t.integer('step', 0),
        ...(why !== undefined ? { reason: why } : {}),
      };
    }),
    ...(fields.has('rejected') ? { rejected: fields.array('rejected', decodeRejectedControl) } : {}),
  };
}

function decodeRejectedControl(fields: RecordFields): RejectedControl {
  const action = fields.string('action');
  if (!CONTROL_ACTIONS.includes(action as ControlAction))
    throw fields.fail('action', `must be one of ${CONTROL_ACTIONS.join(', ')}`);
  const host = fields.optionalString('host');
  const reason = fields.optionalString('reason');
  return {
    seq: fields.integer('seq', 0),
    action: action as ControlAction,
    ...(host !== undefined ? { host } : {}),
    by: fields.string('by'),
    at: fields.string('at'),
    ...(reason !== undefined ? { reason } : {}),
    rejectedAt: fields.string('rejectedAt'),
    rejection: fields.string('rejection'),
  };
}

function deploymentState(fields: RecordFields, name: string): DeploymentState {
  const state = fields.string(name);
  if (!DEPLOYMENT_STATES.includes(state as DeploymentState))
    throw fields.fail(name, `must be one of ${DEPLOYMENT_STATES.join(', ')}`);
  return state as DeploymentState;
}
