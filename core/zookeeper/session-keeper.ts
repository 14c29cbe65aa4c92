import { EventEmitter } from 'node:events';
import { Backoff } from '../recipes/backoff.js';
import { followAclPolicy } from '../zk-acl-policy.js';
import type { ZooKeeperEndpoint } from './endpoint.js';
import { ZkSession, type ZkSessionState } from './zk-session.js';

export interface SessionKeeperOptions {
  readonly endpoint: ZooKeeperEndpoint;
  /** Called after each failed attempt, with the number of failures in a row. */
  readonly onAttemptFailed?: (error: unknown, failures: number) => void;
}

/**
 * A session for one use (a command that reads and exits): connected, or a ZkError after the connect
 * timeout. With credentials, it creates nodes with the ACLs of the root's access policy.
 */
export async function connectSession(endpoint: ZooKeeperEndpoint): Promise<ZkSession> {
  const session = await ZkSession.connect({
    connectString: endpoint.connectString,
    sessionTimeoutMs: endpoint.sessionTimeoutMs,
    connectTimeoutMs: endpoint.connectTimeoutMs,
    requestTimeoutMs: endpoint.requestTimeoutMs,
    ...(endpoint.auth ? { auth: endpoint.auth } : {}),
  });
  if (endpoint.auth?.length) {
    try {
      await followAclPolicy(session, endpoint.layout);
    } catch (error) {
      await session.close();
      throw error;
    }
  }
  return session;
}

export type KeeperEvents = {
  /** A new session is connected: everything read or written on an earlier one must be redone. */
  session: [ZkSession];
  /** The state of the current session. */
  state: [ZkSessionState];
};

/**
 * Keeps one ZooKeeper session open for as long as it runs (Curator's ConnectionStateManager, in
 * small): connects with retries, and when a session expires — which is final for it — opens a new
 * one and announces it, so recipes above re-register and re-read. Disconnections within a session
 * are only reported: the client reconnects by itself.
 */
export class SessionKeeper extends EventEmitter<KeeperEvents> {
  private readonly options: SessionKeeperOptions;
  private current: ZkSession | undefined;
  private readonly previous: string[] = [];
  private closed = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private endSession: (() => void) | undefined;

  constructor(options: SessionKeeperOptions) {
    super();
    // Every recipe on the session listens (one per watched environment, discovery, election): a
    // process with many uses of one session is the point, not a leak.
    this.setMaxListeners(0);
    this.options = options;
  }

  /** The current session, connected or reconnecting; undefined between sessions. */
  get session(): ZkSession | undefined {
    return this.current;
  }

  /** Ids of the sessions this keeper held before the current one (the last few). */
  get previousSessionIds(): readonly string[] {
    return this.previous;
  }

  get connected(): boolean {
    return this.current?.state === 'connected';
  }

  start(): void {
    this.loop ??= this.run();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    this.endSession?.();
    const session = this.current;
    this.current = undefined;
    await session?.close();
    // An attempt in flight cannot be cancelled; it closes its own session when it lands (see run()).
  }

  /** The endpoint sessions are opened on. */
  get endpoint(): ZooKeeperEndpoint {
    return this.options.endpoint;
  }

  private async run(): Promise<void> {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    while (!this.closed) {
      let session: ZkSession;
      try {
        session = await connectSession(this.options.endpoint);
      } catch (error) {
        const delay = backoff.next();
        this.options.onAttemptFailed?.(error, backoff.failures);
        await this.pause(delay);
        continue;
      }
      if (this.closed) {
        await session.close();
        return;
      }
      backoff.reset();
      await this.hold(session);
    }
  }

  /**
   * Announces a session and waits until it expires or the keeper closes. ZkSession itself gives up a
   * session disconnected for longer than its timeout as expired, as Curator does.
   */
  private async hold(session: ZkSession): Promise<void> {
    this.current = session;
    const ended = new Promise<void>((resolve) => {
      this.endSession = resolve;
      session.on('state', (state) => {
        if (this.current === session) this.emit('state', state);
        if (state === 'expired' || state === 'closed') resolve();
      });
    });
    this.emit('session', session);
    await ended;
    this.endSession = undefined;
    if (this.current === session) this.current = undefined;
    this.previous.push(session.sessionId);
    if (this.previous.length > 8) this.previous.shift();
    await session.close();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}
