import type { SessionKeeper } from '../zookeeper/session-keeper.js';
import type { ZkSession, ZkSessionState, ZkWatcher } from '../zookeeper/zk-session.js';
import { CoalescingTrigger } from './coalescing-trigger.js';

export interface WatchedReadOptions<T> {
  readonly keeper: SessionKeeper;
  /**
   * Reads the state. When `watch` is given, set it on what is read (ZooKeeper watches fire once):
   * it is given again only after it fired, or after a reconnection may have lost it.
   */
  readonly read: (session: ZkSession, watch: ZkWatcher | undefined) => Promise<T>;
  readonly onRead: (result: T) => void;
  /** A read failed; it is retried with Cairn's backoff. */
  readonly onError?: (error: unknown, failures: number) => void;
  /**
   * A cheap check, run about every `intervalMs` (±20 %, so clients started together do not check
   * together), that nothing changed unseen (a watch lost in a way the client could not notice):
   * resolves true to read again. A guard only: every reconnection already reads again.
   */
  readonly resync?: {
    readonly intervalMs: number;
    readonly changed: (session: ZkSession) => Promise<boolean>;
  };
}

/**
 * The loop under every watching recipe (Curator's NodeCache/TreeCache machinery, once): read with a
 * watch, read again when it fires, on every new session and every reconnection; never trust a watch
 * to persist; overlapping triggers collapse into one more read; failures retry with backoff.
 */
export class WatchedRead<T> {
  private readonly options: WatchedReadOptions<T>;
  private readonly trigger: CoalescingTrigger;
  private armed = false;
  private closed = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly onWatch: ZkWatcher = () => {
    this.armed = false;
    this.request();
  };
  private readonly onSession = () => {
    this.armed = false;
    this.request();
  };
  private readonly onState = (state: ZkSessionState) => {
    if (state !== 'connected') return;
    // Watches may or may not have survived the disconnection: read again either way.
    this.armed = false;
    this.request();
  };

  constructor(options: WatchedReadOptions<T>) {
    this.options = options;
    this.trigger = new CoalescingTrigger(() => this.readOnce(), {
      onError: (error, failures) => {
        this.armed = false;
        if (!this.closed) this.options.onError?.(error, failures);
      },
    });
  }

  start(): void {
    this.options.keeper.on('session', this.onSession);
    this.options.keeper.on('state', this.onState);
    this.scheduleResync();
    if (this.options.keeper.connected) this.request();
  }

  /** Reads now, or once more after the read in progress. */
  request(): void {
    if (!this.closed) this.trigger.request();
  }

  /** Resolves when no read is in progress or pending. */
  async idle(): Promise<void> {
    await this.trigger.idle();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.options.keeper.off('session', this.onSession);
    this.options.keeper.off('state', this.onState);
    clearTimeout(this.resyncTimer);
    await this.trigger.close();
  }

  private async readOnce(): Promise<void> {
    const session = this.options.keeper.session;
    // Not connected: the next `session` or `connected` event asks again.
    if (this.closed || session?.state !== 'connected') return;
    // Armed before the read: a watch that fires during it leaves `armed` false for the next one.
    const watch = this.armed ? undefined : this.onWatch;
    this.armed = true;
    const result = await this.options.read(session, watch);
    if (!this.closed) this.options.onRead(result);
  }

  private scheduleResync(): void {
    const resync = this.options.resync;
    if (this.closed || !resync) return;
    const delay = resync.intervalMs * (0.8 + 0.4 * Math.random());
    this.resyncTimer = setTimeout(() => {
      this.checkUnseenChange();
      this.scheduleResync();
    }, delay);
    this.resyncTimer.unref();
  }

  private checkUnseenChange(): void {
    const session = this.options.keeper.session;
    const resync = this.options.resync;
    if (this.closed || !resync || session?.state !== 'connected') return;
    resync.changed(session).then(
      (changed) => {
        if (changed) {
          this.armed = false;
          this.request();
        }
      },
      () => {
        // The next reconnection reads again; a failed check changes nothing.
      },
    );
  }
}
