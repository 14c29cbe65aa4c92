import type { SessionKeeper } from '../core/index.js';
import { ZkError, type ZkSession, type ZkSessionState } from '../core/index.js';
import { SdkWarning } from './errors.js';
import { encodeInstanceRecord, type InstanceRecord } from './instance-record.js';

export interface InstanceRegistrationOptions {
  readonly keeper: SessionKeeper;
  /** The instance's node, `/instances/<service>/<env>/<id>`. */
  readonly path: string;
  readonly parent: string;
  /** Ids of sessions this instance held before and gave up: nodes they still own are ours to replace. */
  readonly formerSessions: () => readonly string[];
  readonly warn: (warning: SdkWarning) => void;
}

const MAX_RETRY_MS = 30_000;

/**
 * An ephemeral node that says what this instance runs, kept up to date (Curator's PersistentNode, for
 * an ephemeral): created on every new session — the old node died with the old session — and
 * rewritten whenever the record changes. Writes are idempotent and only the newest record is
 * written, so a write lost with a connection is simply written again.
 */
export class InstanceRegistration {
  private readonly options: InstanceRegistrationOptions;
  private record: InstanceRecord | undefined;
  /** The session on which the node is known to exist. */
  private createdOn: ZkSession | undefined;
  private dirty = false;
  private writing: Promise<void> | undefined;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onSession = () => {
    this.createdOn = undefined;
    this.request();
  };
  private readonly onState = (state: ZkSessionState) => {
    if (state === 'connected' && this.dirty) this.request();
  };

  constructor(options: InstanceRegistrationOptions) {
    this.options = options;
  }

  get path(): string {
    return this.options.path;
  }

  start(record: InstanceRecord): void {
    this.record = record;
    this.options.keeper.on('session', this.onSession);
    this.options.keeper.on('state', this.onState);
    this.request();
  }

  update(record: InstanceRecord): void {
    this.record = record;
    this.request();
  }

  /** Resolves when the newest record has been written (or a write of it failed). */
  async settled(): Promise<void> {
    while (this.writing) await this.writing;
  }

  /** Deletes the node now, rather than a session timeout later, so discovery drops it at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.options.keeper.off('session', this.onSession);
    this.options.keeper.off('state', this.onState);
    await this.writing?.catch(() => {});
    const session = this.createdOn;
    if (session && session === this.options.keeper.session && session.state === 'connected') {
      await session.remove(this.options.path).catch((error: unknown) => {
        // Gone already, or the session is ending: either way the node dies with it.
        if (!(error instanceof ZkError && (error.code === 'NO_NODE' || error.transient))) throw error;
      });
    }
  }

  private request(): void {
    if (this.closed || !this.record) return;
    this.dirty = true;
    this.writing ??= this.drain().finally(() => {
      this.writing = undefined;
    });
  }

  private async drain(): Promise<void> {
    while (this.dirty && !this.closed) {
      const session = this.options.keeper.session;
      if (session?.state !== 'connected') return; // `session`/`connected` events ask again
      this.dirty = false;
      const data = encodeInstanceRecord(this.record as InstanceRecord);
      try {
        await this.write(session, data);
        this.failures = 0;
      } catch (error) {
        this.dirty = true;
        this.onWriteFailed(error);
        return;
      }
    }
  }

  private async write(session: ZkSession, data: Uint8Array): Promise<void> {
    const { path, parent } = this.options;
    if (this.createdOn === session) {
      await session.set(path, data);
      return;
    }
    await session.mkdirp(parent);
    try {
      await session.create(path, data, 'ephemeral');
    } catch (error) {
      if (!(error instanceof ZkError && error.code === 'NODE_EXISTS')) throw error;
      // Ours if a create whose answer was lost landed; a session this instance gave up on leaves a
      // node the server has not expired yet, which is ours to replace; anyone else's is a conflict.
      const stat = await session.exists(path);
      if (stat && ownedBy(stat.ephemeralOwner, session.sessionId)) {
        await session.set(path, data);
      } else if (stat && this.options.formerSessions().some((id) => ownedBy(stat.ephemeralOwner, id))) {
        await session.remove(path, stat.version);
        await session.create(path, data, 'ephemeral');
      } else if (stat) {
        throw new SdkWarning(
          'REGISTRATION_CONFLICT',
          `${path} belongs to another live session: give each instance its own id (option instance.id)`,
        );
      } else {
        await session.create(path, data, 'ephemeral');
      }
    }
    this.createdOn = session;
  }

  private onWriteFailed(error: unknown): void {
    this.failures++;
    if (this.failures === 1 || error instanceof SdkWarning) {
      this.options.warn(
        error instanceof SdkWarning
          ? error
          : new SdkWarning(
              'REGISTRATION_FAILED',
              `cannot register this instance at ${this.options.path}: ${(error as Error).message}; retrying`,
              { cause: error },
            ),
      );
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => this.request(),
      Math.min(MAX_RETRY_MS, 250 * 2 ** Math.min(this.failures, 8)),
    );
    this.retryTimer.unref();
  }
}

function ownedBy(owner: bigint, sessionIdHex: string): boolean {
  return BigInt.asUintN(64, owner) === BigInt.asUintN(64, BigInt(`0x${sessionIdHex}`));
}
