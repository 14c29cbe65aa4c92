import { CONTENT_ID } from '../zk-layout.js';
import { COMMIT_SHA, encodeJson, RecordFields } from './record-fields.js';

/** What an agent is doing with one service in one environment on its host. */
export type AgentServiceState =
  /** The environment's snapshot is on disk, checked and reloaded. */
  | 'applied'
  /** A snapshot is being written, checked or reloaded. */
  | 'applying'
  /** The newest snapshot failed its check or reload here: the previous files are back in place. */
  | 'rejected'
  /** The agent cannot apply (a path it refuses, a missing owner, a full disk): it retries. */
  | 'failed'
  /** Nothing read yet (ZooKeeper unreachable since the agent started): what is on disk stays. */
  | 'waiting'
  /** The host no longer runs the service: the files it wrote stay, no longer kept up to date. */
  | 'unmanaged';

/** A command the agent ran: the service's check or reload. */
export interface CommandRun {
  readonly step: 'check' | 'reload';
  readonly command: string;
  /** Exit code, or absent when it was killed (`signal`) or could not start. */
  readonly exitCode?: number;
  readonly signal?: string;
  /** True when it ran past its timeout and was killed. */
  readonly timedOut?: boolean;
  readonly durationMs: number;
  /** The last few KB of what it printed (stdout and stderr together). */
  readonly outputTail: string;
  /** When it finished, ISO 8601. */
  readonly at: string;
}

/** A snapshot this host refused: which, at which step, and why. */
export interface Rejection {
  readonly commit: string;
  readonly manifest: string;
  readonly run: CommandRun;
}

/** A managed file that differs from what the agent wrote. */
export interface Drift {
  readonly file: string;
  /** When the agent first saw it differ, ISO 8601. */
  readonly since: string;
  /** Whether the agent wrote it back (repair mode) or only reports it. */
  readonly repaired: boolean;
}

export interface AgentServiceStatus {
  readonly service: string;
  readonly env: string;
  /** Where the files are written on this host. */
  readonly directory: string;
  readonly state: AgentServiceState;
  /** The commit whose files are on disk, and that snapshot's manifest id; absent before any. */
  readonly commit?: string;
  readonly manifest?: string;
  readonly appliedAt?: string;
  /**
   * While the files follow this host's assignment (a rollout or a drain), which write of it they
   * answer: the assignment node's mzxid, in decimal. A drain can name the very files of an earlier
   * one, so the manifest alone cannot tell a record written before the agent's last swap from one
   * written after it; the deployment controller holds a step's drain to this.
   */
  readonly assignment?: string;
  /** Content id of each file the agent wrote and keeps. */
  readonly files: Readonly<Record<string, string>>;
  readonly lastRun?: CommandRun;
  readonly rejected?: Rejection;
  readonly drift: readonly Drift[];
  readonly error?: { readonly code: string; readonly message: string; readonly at: string };
}

/**
 * `/agents/<host>` (ephemeral): one host agent, and per service and environment what it applied,
 * the result of its last check and reload, drift and errors. `cairn status` compares it with the
 * service tree and the environments' pointers.
 */
export interface AgentRecord {
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  /** By `environmentKey(service, env)`. */
  readonly services: Readonly<Record<string, AgentServiceStatus>>;
}

export function encodeAgentRecord(record: AgentRecord): Uint8Array {
  return encodeJson(record);
}

/** A zxid in decimal: a 64-bit count, which JSON numbers cannot carry whole. */
const ZXID = /^(0|[1-9][0-9]{0,19})$/;

const STATES: readonly AgentServiceState[] = [
  'applied',
  'applying',
  'rejected',
  'failed',
  'waiting',
  'unmanaged',
];

export function decodeAgentRecord(data: Uint8Array, path?: string): AgentRecord {
  const fields = RecordFields.parse('agent', data, path);
  return {
    host: fields.string('host'),
    pid: fields.integer('pid', 0),
    startedAt: fields.string('startedAt'),
    services: fields.map('services', decodeServiceStatus),
  };
}

function decodeServiceStatus(fields: RecordFields): AgentServiceStatus {
  const state = fields.string('state') as AgentServiceState;
  if (!STATES.includes(state)) throw fields.fail('state', `must be one of ${STATES.join(', ')}`);
  const commit = fields.optionalString('commit', COMMIT_SHA);
  const manifest = fields.optionalString('manifest', CONTENT_ID);
  const appliedAt = fields.optionalString('appliedAt');
  const assignment = fields.optionalString('assignment', ZXID);
  const lastRun = fields.optionalObject('lastRun');
  const rejected = fields.optionalObject('rejected');
  const error = fields.optionalObject('error');
  return {
    service: fields.string('service'),
    env: fields.string('env'),
    directory: fields.string('directory'),
    state,
    ...(commit !== undefined ? { commit } : {}),
    ...(manifest !== undefined ? { manifest } : {}),
    ...(appliedAt !== undefined ? { appliedAt } : {}),
    ...(assignment !== undefined ? { assignment } : {}),
    files: fields.stringMap('files', CONTENT_ID),
    ...(lastRun ? { lastRun: decodeRun(lastRun) } : {}),
    ...(rejected
      ? {
          rejected: {
            commit: rejected.string('commit', COMMIT_SHA),
            manifest: rejected.string('manifest', CONTENT_ID),
            run: decodeRun(rejected.object('run')),
          },
        }
      : {}),
    drift: fields.array('drift', (drift) => ({
      file: drift.string('file'),
      since: drift.string('since'),
      repaired: drift.boolean('repaired'),
    })),
    ...(error
      ? { error: { code: error.string('code'), message: error.string('message'), at: error.string('at') } }
      : {}),
  };
}

function decodeRun(fields: RecordFields): CommandRun {
  const step = fields.string('step');
  if (step !== 'check' && step !== 'reload') throw fields.fail('step', 'must be check or reload');
  const exitCode = fields.optionalInteger('exitCode');
  const signal = fields.optionalString('signal');
  const timedOut = fields.optionalBoolean('timedOut');
  return {
    step,
    command: fields.string('command'),
    ...(exitCode !== undefined ? { exitCode } : {}),
    ...(signal !== undefined ? { signal } : {}),
    ...(timedOut ? { timedOut } : {}),
    durationMs: fields.number('durationMs'),
    outputTail: fields.string('outputTail'),
    at: fields.string('at'),
  };
}
