import { encodeJson, RecordFields } from './record-fields.js';

/**
 * pending → claimed → running → verifying (health check) → succeeded | failed (exit, timeout,
 * health) | lost (its agent's session ended) | skipped | cancelled (never started: the deployment
 * was aborted or superseded first).
 */
export type TaskState =
  | 'pending'
  | 'claimed'
  | 'running'
  | 'verifying'
  | 'succeeded'
  | 'failed'
  | 'lost'
  | 'skipped'
  | 'cancelled';

export const TASK_STATES: readonly TaskState[] = [
  'pending',
  'claimed',
  'running',
  'verifying',
  'succeeded',
  'failed',
  'lost',
  'skipped',
  'cancelled',
];

/**
 * Why a task failed: the deploy command exited non-zero, ran past its timeout, the health check
 * never passed, or the host's check or reload rejected the configuration the deployment rolls out.
 */
export type TaskFailure = 'exit' | 'timeout' | 'health' | 'config';

const FAILURES: readonly TaskFailure[] = ['exit', 'timeout', 'health', 'config'];

export function isTerminalTask(state: TaskState): boolean {
  return !isActiveTask(state) && state !== 'pending';
}

/** Claimed and not finished: an agent works on it. */
export function isActiveTask(state: TaskState): boolean {
  return state === 'claimed' || state === 'running' || state === 'verifying';
}

/** Counts against the failure budget. */
export function isFailedTask(state: TaskState): boolean {
  return state === 'failed' || state === 'lost';
}

export interface TaskTransition {
  readonly at: string;
  readonly actor: string;
  readonly state: TaskState;
}

/**
 * `/deployments/<service>/<env>/<id>/tasks/<host>`: one host's part of a deployment. The controller
 * creates it pending, the host's agent claims and runs it; each writes it only with the version it
 * read, so neither ever overwrites the other's step.
 */
export interface DeploymentTaskRecord {
  readonly host: string;
  readonly state: TaskState;
  /** 1 for the first run; a retry counts up. */
  readonly attempt: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The ZooKeeper session of the agent that claimed it (hex). */
  readonly claimedBy?: string;
  readonly failure?: TaskFailure;
  readonly exitCode?: number;
  /** How long the deploy command and health check ran, in milliseconds. */
  readonly durationMs?: number;
  /** The version the host ran before, as its agent knows it. */
  readonly previousVersion?: string;
  /** The host already ran the version: nothing was run. */
  readonly alreadyAtVersion?: boolean;
  readonly message?: string;
  readonly transitions: readonly TaskTransition[];
}

export function encodeDeploymentTaskRecord(record: DeploymentTaskRecord): Uint8Array {
  return encodeJson({ ...record, transitions: record.transitions.slice(-MAX_TASK_TRANSITIONS) });
}

export const MAX_TASK_TRANSITIONS = 30;

export function decodeDeploymentTaskRecord(data: Uint8Array, path?: string): DeploymentTaskRecord {
  const fields = RecordFields.parse('deployment task', data, path);
  const failure = fields.optionalString('failure');
  if (failure !== undefined && !FAILURES.includes(failure as TaskFailure))
    throw fields.fail('failure', `must be one of ${FAILURES.join(', ')}`);
  const claimedBy = fields.optionalString('claimedBy');
  const exitCode = fields.optionalInteger('exitCode');
  const durationMs = fields.optionalInteger('durationMs', 0);
  const previousVersion = fields.optionalString('previousVersion');
  const alreadyAtVersion = fields.optionalBoolean('alreadyAtVersion');
  const message = fields.optionalString('message');
  return {
    host: fields.string('host'),
    state: taskState(fields, 'state'),
    attempt: fields.integer('attempt', 1),
    createdAt: fields.string('createdAt'),
    updatedAt: fields.string('updatedAt'),
    ...(claimedBy !== undefined ? { claimedBy } : {}),
    ...(failure !== undefined ? { failure: failure as TaskFailure } : {}),
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    ...(previousVersion !== undefined ? { previousVersion } : {}),
    ...(alreadyAtVersion !== undefined ? { alreadyAtVersion } : {}),
    ...(message !== undefined ? { message } : {}),
    transitions: fields.array('transitions', (t) => ({
      at: t.string('at'),
      actor: t.string('actor'),
      state: taskState(t, 'state'),
    })),
  };
}

function taskState(fields: RecordFields, name: string): TaskState {
  const state = fields.string(name);
  if (!TASK_STATES.includes(state as TaskState))
    throw fields.fail(name, `must be one of ${TASK_STATES.join(', ')}`);
  return state as TaskState;
}

/** The task moved to `state` by `actor` at `at`, with `changes`. */
export function taskTransition(
  task: DeploymentTaskRecord,
  state: TaskState,
  actor: string,
  at: string,
  changes: Partial<Omit<DeploymentTaskRecord, 'state' | 'transitions' | 'updatedAt'>> = {},
): DeploymentTaskRecord {
  return {
    ...task,
    ...changes,
    state,
    updatedAt: at,
    transitions: [...task.transitions, { at, actor, state }].slice(-MAX_TASK_TRANSITIONS),
  };
}
