import { CairnError } from '../errors.js';
import type { ZkOp } from '../zookeeper/zk-client.js';
import { ZkError } from '../zookeeper/zk-error.js';
import type { ZkSession } from '../zookeeper/zk-session.js';

/** A write refused because this replica no longer leads: its election node is gone. */
export class LeadershipLostError extends CairnError {
  constructor(options?: { cause?: unknown }) {
    super(
      'LEADERSHIP_LOST',
      'not the leader any more: the write was refused and nothing was written',
      options,
    );
  }
}

/**
 * The only way a leader writes: every transaction starts with a check of the leader's election node
 * (the fence), so a replica that lost leadership — its session expired, its node deleted — can never
 * write, even with requests already in flight.
 */
export class FencedWriter {
  readonly session: ZkSession;
  private readonly fence: () => ZkOp;

  /** `fence` returns the check operation, or throws when not leading. */
  constructor(session: ZkSession, fence: () => ZkOp) {
    this.session = session;
    this.fence = fence;
  }

  /** Applies the operations atomically, fenced; LeadershipLostError when the fence fails. */
  async multi(ops: readonly ZkOp[]): Promise<void> {
    let fence: ZkOp;
    try {
      fence = this.fence();
    } catch (error) {
      throw new LeadershipLostError({ cause: error });
    }
    try {
      await this.session.multi([fence, ...ops]);
    } catch (error) {
      if (error instanceof ZkError && error.opIndex === 0) throw new LeadershipLostError({ cause: error });
      if (error instanceof ZkError && error.opIndex !== undefined && error.opIndex > 0)
        throw new ZkError(error.code, error.message, {
          ...(error.path !== undefined ? { path: error.path } : {}),
          opIndex: error.opIndex - 1,
          cause: error.cause,
        });
      throw error;
    }
  }

  async create(path: string, data?: Uint8Array): Promise<void> {
    await this.multi([{ op: 'create', path, ...(data ? { data } : {}) }]);
  }

  async set(path: string, data: Uint8Array, version?: number): Promise<void> {
    await this.multi([{ op: 'set', path, data, ...(version !== undefined ? { version } : {}) }]);
  }

  async remove(path: string, version?: number): Promise<void> {
    await this.multi([{ op: 'remove', path, ...(version !== undefined ? { version } : {}) }]);
  }
}
