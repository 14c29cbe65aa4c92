import type { SessionKeeper } from '../core/index.js';
import {
  type EnvironmentSnapshot,
  readEnvironmentSnapshot,
  ZkError,
  type ZkLayout,
  type ZkSession,
  type ZkSessionState,
} from '../core/index.js';

/** What one consistent read of an environment found. */
export type EnvironmentRead =
  | { readonly kind: 'snapshot'; readonly headMzxid: bigint; readonly snapshot: EnvironmentSnapshot }
  /** ZooKeeper has no such environment at the commit `/head` names (or no `/head` at all). */
  | {
      readonly kind: 'absent';
      readonly headMzxid: bigint | undefined;
      readonly head: (Readonly<Record<string, unknown>> & { readonly commit: string }) | undefined;
    };

export interface SnapshotWatcherOptions {
  readonly keeper: SessionKeeper;
  readonly layout: ZkLayout;
  readonly service: string;
  readonly env: string;
  /** Every consistent read, in order; the consumer ignores those it has already seen (by headMzxid). */
  readonly onRead: (read: EnvironmentRead) => void;
  /** A read failed; called once per run of failures. */
  readonly onReadFailed: (error: unknown) => void;
  /** How often `/head`'s mzxid is checked even without a watch firing. */
  readonly resyncIntervalMs: number;
  /** The files the client holds now: unchanged ones are not read again. */
  readonly known?: () => ReadonlyMap<string, Uint8Array> | undefined;
}

const MAX_RETRY_MS = 30_000;

/**
 * Follows one environment through `/head` alone — one watch per client, whatever the number of files
 * (little for the server to hold and to set again on every reconnection). Each time `/head` changes it
 * reads a consistent snapshot (`readEnvironmentSnapshot`); reads that overlap collapse into one more,
 * so a burst of commits costs a read or two and the last commit is always read.
 *
 * It never trusts a watch to persist: it re-reads on every new session and every reconnection, retries
 * failed and inconsistent reads with backoff, and compares `/head`'s mzxid on a timer.
 */
export class SnapshotWatcher {
  private readonly options: SnapshotWatcherOptions;
  private readonly headPath: string;
  private reading: Promise<void> | undefined;
  private again = false;
  private armed = false;
  private lastHeadMzxid: bigint | undefined;
  private failures = 0;
  private failureReported = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly onHeadChanged = () => {
    this.armed = false;
    this.request();
  };
  private readonly onSession = () => {
    this.armed = false;
    this.request();
  };
  private readonly onState = (state: ZkSessionState) => {
    if (state === 'connected') {
      // Watches may or may not have survived the disconnection: read again either way.
      this.armed = false;
      this.request();
    }
  };

  constructor(options: SnapshotWatcherOptions) {
    this.options = options;
    this.headPath = options.layout.head();
  }

  start(): void {
    this.options.keeper.on('session', this.onSession);
    this.options.keeper.on('state', this.onState);
    this.resyncTimer = setInterval(() => this.resync(), this.options.resyncIntervalMs);
    this.resyncTimer.unref();
    if (this.options.keeper.connected) this.request();
  }

  close(): void {
    this.closed = true;
    this.options.keeper.off('session', this.onSession);
    this.options.keeper.off('state', this.onState);
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
  }

  /** Reads now, or once more after the read in progress. */
  request(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    clearTimeout(this.retryTimer);
    this.reading = this.readUntilSettled().finally(() => {
      this.reading = undefined;
    });
  }

  private async readUntilSettled(): Promise<void> {
    do {
      this.again = false;
      const session = this.options.keeper.session;
      if (session?.state !== 'connected') return; // the next `connected` asks again
      await this.readOnce(session);
    } while (this.again && !this.closed);
  }

  private async readOnce(session: ZkSession): Promise<void> {
    const { layout, service, env } = this.options;
    let read: EnvironmentRead | undefined;
    // Armed before the read: a watch that fires during it must leave `armed` false for the next one.
    const watch = this.armed ? undefined : this.onHeadChanged;
    this.armed = true;
    try {
      const result = await readEnvironmentSnapshot(
        session,
        layout,
        service,
        env,
        watch,
        this.options.known?.(),
      );
      if (!result.consistent) {
        // A commit is being written: `/head` will move and the watch fire; retry anyway in case it does not.
        this.scheduleRetry();
        return;
      }
      read = result.snapshot
        ? { kind: 'snapshot', headMzxid: result.snapshot.headStat.mzxid, snapshot: result.snapshot }
        : await this.readAbsence(session);
    } catch (error) {
      this.armed = false;
      if (!this.failureReported && !this.closed) {
        this.failureReported = true;
        this.options.onReadFailed(error);
      }
      this.scheduleRetry();
      return;
    }
    if (!read) {
      this.scheduleRetry();
      return;
    }
    this.failures = 0;
    this.failureReported = false;
    this.lastHeadMzxid = read.headMzxid;
    if (!this.closed) this.options.onRead(read);
  }

  /**
   * readEnvironmentSnapshot found no environment: prove at which commit, by reading `/head` around a
   * check of the environment node (they change in the same transaction).
   */
  private async readAbsence(session: ZkSession): Promise<EnvironmentRead | undefined> {
    const { layout, service, env } = this.options;
    let head: { data: Buffer; stat: { mzxid: bigint } };
    try {
      head = await session.get(this.headPath);
    } catch (error) {
      if (error instanceof ZkError && error.code === 'NO_NODE')
        return { kind: 'absent', headMzxid: undefined, head: undefined };
      throw error;
    }
    if (await session.exists(layout.configEnv(service, env))) return undefined;
    const after = await session.exists(this.headPath);
    if (!after || after.mzxid !== head.stat.mzxid) return undefined;
    const record = JSON.parse(head.data.toString('utf8')) as Record<string, unknown> & { commit: string };
    return { kind: 'absent', headMzxid: head.stat.mzxid, head: record };
  }

  private scheduleRetry(): void {
    if (this.closed) return;
    this.failures++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(
      () => this.request(),
      Math.min(MAX_RETRY_MS, 250 * 2 ** Math.min(this.failures, 8)),
    );
    this.retryTimer.unref();
  }

  /** A cheap check that the watch did not miss a change: one exists() on `/head`. */
  private resync(): void {
    const session = this.options.keeper.session;
    if (this.closed || this.reading || !session || session.state !== 'connected') return;
    session.exists(this.headPath).then(
      (stat) => {
        if (stat?.mzxid !== this.lastHeadMzxid) {
          this.armed = false;
          this.request();
        }
      },
      () => {
        // The next reconnection re-reads; a failed check changes nothing.
      },
    );
  }
}
