import { CairnError } from '../errors.js';
import type { SessionKeeper } from '../zookeeper/session-keeper.js';
import { ZkError } from '../zookeeper/zk-error.js';
import type { ZkSession, ZkSessionState } from '../zookeeper/zk-session.js';
import { CoalescingTrigger } from './coalescing-trigger.js';

export interface EphemeralNodeOptions {
  readonly keeper: SessionKeeper;
  readonly path: string;
  /** Told of each run of failures (the first of a run) and of every conflict; writes are retried. */
  readonly onError?: (error: unknown) => void;
}

/** The node exists and belongs to a live session that is not this keeper's. */
export class EphemeralNodeConflictError extends CairnError {
  readonly path: string;

  constructor(path: string) {
    super(
      'EPHEMERAL_NODE_CONFLICT',
      `${path} belongs to another live session: give each holder its own name`,
    );
    this.path = path;
  }
}

/**
 * An ephemeral node kept in place with the newest data (Curator's PersistentNode, ephemeral): created
 * on every new session — the old node died with the old one — and rewritten whenever the data
 * changes. Writes are idempotent and only the newest data is written, so a write lost with a
 * connection is simply written again. A node left by a session this keeper gave up on is replaced;
 * one held by any other live session is a conflict, reported and retried.
 */
export class EphemeralNode {
  private readonly options: EphemeralNodeOptions;
  private readonly trigger: CoalescingTrigger;
  private data: Uint8Array | undefined;
  /** The session on which the node is known to exist. */
  private createdOn: ZkSession | undefined;
  private dirty = false;
  private closed = false;
  private readonly onSession = () => {
    this.createdOn = undefined;
    this.request();
  };
  private readonly onState = (state: ZkSessionState) => {
    if (state === 'connected' && this.dirty) this.request();
  };

  constructor(options: EphemeralNodeOptions) {
    this.options = options;
    this.trigger = new CoalescingTrigger(() => this.write(), {
      onError: (error, failures) => {
        this.dirty = true;
        if (failures === 1 || error instanceof EphemeralNodeConflictError) this.options.onError?.(error);
      },
    });
  }

  get path(): string {
    return this.options.path;
  }

  /** Whether the node holds the newest data now. */
  get current(): boolean {
    return !this.dirty && this.createdOn !== undefined && this.createdOn === this.options.keeper.session;
  }

  start(data: Uint8Array): void {
    this.data = data;
    this.options.keeper.on('session', this.onSession);
    this.options.keeper.on('state', this.onState);
    this.request();
  }

  update(data: Uint8Array): void {
    this.data = data;
    this.request();
  }

  /** Resolves when the newest data has been written (or a write of it failed). */
  async settled(): Promise<void> {
    await this.trigger.idle();
  }

  /** Deletes the node now, rather than a session timeout later, so watchers see it go at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.options.keeper.off('session', this.onSession);
    this.options.keeper.off('state', this.onState);
    await this.trigger.close();
    const session = this.createdOn;
    if (session && session === this.options.keeper.session && session.state === 'connected') {
      await session.remove(this.options.path).catch((error: unknown) => {
        // Gone already, or the session is ending: either way the node dies with it.
        if (!(error instanceof ZkError && (error.code === 'NO_NODE' || error.transient))) throw error;
      });
    }
  }

  private request(): void {
    if (this.closed || !this.data) return;
    this.dirty = true;
    this.trigger.request();
  }

  private async write(): Promise<void> {
    const session = this.options.keeper.session;
    if (this.closed || !this.dirty || session?.state !== 'connected') return; // session events ask again
    this.dirty = false;
    const data = this.data as Uint8Array;
    const { path } = this.options;
    if (this.createdOn === session) {
      await session.set(path, data);
      return;
    }
    await session.mkdirp(path.slice(0, path.lastIndexOf('/')));
    try {
      await session.create(path, data, 'ephemeral');
    } catch (error) {
      if (!(error instanceof ZkError && error.code === 'NODE_EXISTS')) throw error;
      // Ours if a create whose answer was lost landed; a session this keeper gave up on leaves a node
      // the server has not expired yet, which is ours to replace; anyone else's is a conflict.
      const stat = await session.exists(path);
      if (stat && ownedBy(stat.ephemeralOwner, session.sessionId)) {
        await session.set(path, data);
      } else if (
        stat &&
        this.options.keeper.previousSessionIds.some((id) => ownedBy(stat.ephemeralOwner, id))
      ) {
        await session.remove(path, stat.version);
        await session.create(path, data, 'ephemeral');
      } else if (stat) {
        throw new EphemeralNodeConflictError(path);
      } else {
        await session.create(path, data, 'ephemeral');
      }
    }
    this.createdOn = session;
  }
}

function ownedBy(owner: bigint, sessionIdHex: string): boolean {
  return BigInt.asUintN(64, owner) === BigInt.asUintN(64, BigInt(`0x${sessionIdHex}`));
}
