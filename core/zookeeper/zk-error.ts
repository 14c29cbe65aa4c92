import { CairnError } from '../errors.js';

/** The ZooKeeper failures callers act on, by name; anything else is `ZK_OTHER`. */
export type ZkErrorCode =
  | 'NO_NODE'
  | 'NODE_EXISTS'
  | 'BAD_VERSION'
  | 'NOT_EMPTY'
  | 'NO_CHILDREN_FOR_EPHEMERALS'
  | 'NO_AUTH'
  | 'AUTH_FAILED'
  | 'INVALID_ACL'
  | 'BAD_ARGUMENTS'
  | 'CONNECTION_LOSS'
  | 'SESSION_EXPIRED'
  | 'TIMEOUT'
  | 'CLOSED'
  | 'PROTOCOL_ERROR'
  | 'ZK_OTHER';

const CODE_BY_NUMBER: ReadonlyMap<number, ZkErrorCode> = new Map([
  [-101, 'NO_NODE'],
  [-110, 'NODE_EXISTS'],
  [-103, 'BAD_VERSION'],
  [-111, 'NOT_EMPTY'],
  [-108, 'NO_CHILDREN_FOR_EPHEMERALS'],
  [-102, 'NO_AUTH'],
  [-115, 'AUTH_FAILED'],
  [-114, 'INVALID_ACL'],
  [-8, 'BAD_ARGUMENTS'],
  [-4, 'CONNECTION_LOSS'],
  [-112, 'SESSION_EXPIRED'],
  [-7, 'TIMEOUT'],
]);

/** What to do about a failure, where the code alone does not say it. */
const ADVICE: Partial<Record<ZkErrorCode, string>> = {
  NO_AUTH: "the session's credentials do not grant this on the node's ACL: connect with credentials that do",
  AUTH_FAILED: 'ZooKeeper rejected the credentials: check the user:password given as auth',
  INVALID_ACL: 'the ACL is empty or names an unknown scheme or a malformed id',
  CONNECTION_LOSS: 'the connection dropped before an answer came: the call may or may not have been applied',
};

/**
 * A ZooKeeper call that failed. `code` says how; `path` which node; for a transaction, `opIndex`
 * says which operation failed. Transient codes (connection loss, timeout) mean the call may or may
 * not have been applied: callers keep their writes idempotent and retry.
 */
export class ZkError extends CairnError {
  declare readonly code: ZkErrorCode;
  readonly path: string | undefined;
  readonly opIndex: number | undefined;

  constructor(
    code: ZkErrorCode,
    message: string,
    details: { path?: string; opIndex?: number; cause?: unknown } = {},
  ) {
    super(code, message, { cause: details.cause });
    this.path = details.path;
    this.opIndex = details.opIndex;
  }

  /** True for failures that say nothing about the data: try again on a (possibly new) session. */
  get transient(): boolean {
    return this.code === 'CONNECTION_LOSS' || this.code === 'TIMEOUT' || this.code === 'SESSION_EXPIRED';
  }

  /**
   * True when a write checked against what was read found it changed meanwhile (a version moved, a
   * node created or removed): nothing was written; read again and decide again.
   */
  get stale(): boolean {
    return this.code === 'BAD_VERSION' || this.code === 'NODE_EXISTS' || this.code === 'NO_NODE';
  }
}

/** The ZkError for an error number a server answered `operation` with. */
export function serverError(
  errorNumber: number,
  operation: string,
  path?: string,
  opIndex?: number,
): ZkError {
  const code = CODE_BY_NUMBER.get(errorNumber) ?? 'ZK_OTHER';
  const where = path ? ` ${path}` : '';
  const op = opIndex !== undefined ? ` (operation #${opIndex})` : '';
  const advice = ADVICE[code];
  return new ZkError(
    code,
    `ZooKeeper ${operation}${where}${op} failed: ${code === 'ZK_OTHER' ? `error ${errorNumber}` : code}${advice ? `: ${advice}` : ''}`,
    {
      ...(path !== undefined ? { path } : {}),
      ...(opIndex !== undefined ? { opIndex } : {}),
    },
  );
}

/** A connection that ended before `operation` was answered. */
export function connectionLoss(operation: string, path: string | undefined, cause?: unknown): ZkError {
  return new ZkError(
    'CONNECTION_LOSS',
    `ZooKeeper ${operation}${path ? ` ${path}` : ''} failed: ${ADVICE.CONNECTION_LOSS}`,
    { ...(path !== undefined ? { path } : {}), cause },
  );
}
