import { CairnError } from '../errors.js';

/** The ZooKeeper failures callers act on, by name; anything else is `ZK_OTHER`. */
export type ZkErrorCode =
  | 'NO_NODE'
  | 'NODE_EXISTS'
  | 'BAD_VERSION'
  | 'NOT_EMPTY'
  | 'NO_CHILDREN_FOR_EPHEMERALS'
  | 'CONNECTION_LOSS'
  | 'SESSION_EXPIRED'
  | 'TIMEOUT'
  | 'CLOSED'
  | 'ZK_OTHER';

const CODE_BY_NUMBER: ReadonlyMap<number, ZkErrorCode> = new Map([
  [-101, 'NO_NODE'],
  [-110, 'NODE_EXISTS'],
  [-103, 'BAD_VERSION'],
  [-111, 'NOT_EMPTY'],
  [-108, 'NO_CHILDREN_FOR_EPHEMERALS'],
  [-4, 'CONNECTION_LOSS'],
  [-112, 'SESSION_EXPIRED'],
  [-7, 'TIMEOUT'],
]);

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
}

/** Translates a node-zookeeper-client exception (or any error) into a ZkError, keeping it as cause. */
export function toZkError(error: unknown, operation: string, path?: string, opIndex?: number): ZkError {
  if (error instanceof ZkError) return error;
  const numeric = (error as { code?: unknown })?.code;
  const code = (typeof numeric === 'number' && CODE_BY_NUMBER.get(numeric)) || 'ZK_OTHER';
  const where = path ? ` ${path}` : '';
  const reason = (error as Error)?.message ?? String(error);
  return new ZkError(code, `ZooKeeper ${operation}${where} failed: ${reason}`, {
    ...(path !== undefined ? { path } : {}),
    ...(opIndex !== undefined ? { opIndex } : {}),
    cause: error,
  });
}

export function zkErrorNumber(code: ZkErrorCode): number | undefined {
  for (const [number, name] of CODE_BY_NUMBER) if (name === code) return number;
  return undefined;
}
