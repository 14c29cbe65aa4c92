import { EventEmitter } from 'node:events';
import type { PersistentMode, WatchListener, ZkNodeEvent } from './watch-registry.js';
import type { ZkAcl } from './zk-acl.js';
import { type ZkAuth, ZkClient, type ZkCreateMode, type ZkOp } from './zk-client.js';
import { ZkError } from './zk-error.js';
import type { ZkStat } from './zk-stat.js';

/** The ACL a node created at a path gets (an access policy); it may throw to refuse the create. */
export type AclOf = (path: string) => readonly ZkAcl[];

/** A one-shot ZooKeeper watch: fires once, for one change; re-arm by reading again. */
export type ZkWatcher = (event: ZkNodeEvent) => void;

/** How a watch set with addWatch() follows its node: alone, or with every node below it. */
export type ZkWatchMode = PersistentMode;

export interface ZkSessionOptions {
  /** Comma-separated host:port list of the ensemble, optionally with a chroot. */
  readonly connectString: string;
  /** Requested session timeout; the server clamps it to its min/max (2x to 20x tickTime). Default 10 s. */
  readonly sessionTimeoutMs?: number;
  /** How long connect() waits for the first connection. Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** Deadline of every call. Default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Credentials presented on every connection (`user:password` for digest); ACLs name them. */
  readonly auth?: readonly ZkAuth[];
}

export type ZkSessionState = 'connected' | 'disconnected' | 'expired' | 'closed';

/** ZooKeeper's default jute.maxbuffer: the largest request or response a server accepts. */
export const ZK_MAX_REQUEST_BYTES = 1024 * 1024 - 1;

const EMPTY = Buffer.alloc(0);

/**
 * One ZooKeeper session behind promises. Every call has a deadline and fails with a ZkError whose
 * `code` callers switch on. Emits `state` with a ZkSessionState: `expired` is final for this object —
 * open a new session (recipes above this one do) and re-read everything.
 */
export class ZkSession extends EventEmitter<{ state: [ZkSessionState] }> {
  private readonly client: ZkClient;
  private readonly requestTimeoutMs: number;
  private currentState: ZkSessionState = 'disconnected';
  private lostTimer: NodeJS.Timeout | undefined;
  private aclOf: AclOf | undefined;

  private constructor(client: ZkClient, requestTimeoutMs: number) {
    super();
    this.client = client;
    this.requestTimeoutMs = requestTimeoutMs;
    client.on('state', (state) => {
      if (this.currentState === 'closed' || this.currentState === 'expired') return;
      const next: ZkSessionState | undefined =
        state === 'connected' || state === 'disconnected'
          ? state
          : state === 'expired' || state === 'auth-failed'
            ? 'expired'
            : undefined;
      if (!next || next === this.currentState) return;
      this.currentState = next;
      if (next === 'disconnected')
        this.lostTimer ??= setTimeout(() => this.expireLocally(), this.sessionTimeoutMs);
      else this.clearLostTimer();
      this.emit('state', next);
    });
  }

  /**
   * Disconnected for a whole session timeout: the ensemble has expired the session, or will before
   * it hears from us. Like Curator, treat it as expired now rather than wait to be told after a
   * reconnect, which may take long (a server that accepts but never answers holds an attempt).
   */
  private expireLocally(): void {
    this.lostTimer = undefined;
    if (this.currentState !== 'disconnected') return;
    this.currentState = 'expired';
    this.emit('state', 'expired');
    void this.client.close();
  }

  private clearLostTimer(): void {
    clearTimeout(this.lostTimer);
    this.lostTimer = undefined;
  }

  static async connect(options: ZkSessionOptions): Promise<ZkSession> {
    for (const { credentials } of options.auth ?? [])
      if (!credentials.includes(':'))
        throw new ZkError('BAD_ARGUMENTS', 'ZooKeeper digest credentials must read user:password');
    const client = new ZkClient({
      connectString: options.connectString,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      ...(options.auth ? { auth: options.auth } : {}),
    });
    const session = new ZkSession(client, options.requestTimeoutMs ?? 10_000);
    const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        settle();
        void client.close();
        reject(
          new ZkError(
            'TIMEOUT',
            `could not connect to ZooKeeper at ${options.connectString} within ${connectTimeoutMs} ms: is it running and reachable?`,
          ),
        );
      }, connectTimeoutMs);
      const onState = () => {
        if (client.state === 'connected') {
          settle();
          resolve();
        } else if (client.state === 'auth-failed' || client.state === 'expired') {
          settle();
          void client.close();
          reject(
            new ZkError(
              client.state === 'auth-failed' ? 'AUTH_FAILED' : 'SESSION_EXPIRED',
              `ZooKeeper at ${options.connectString} refused the session (${client.state})`,
            ),
          );
        }
      };
      function settle() {
        clearTimeout(timer);
        client.off('state', onState);
      }
      client.on('state', onState);
      client.start();
    });
    return session;
  }

  get state(): ZkSessionState {
    return this.currentState;
  }

  /** The session id as hex, as ZooKeeper's own logs print it. */
  get sessionId(): string {
    return BigInt.asUintN(64, this.client.sessionId).toString(16).padStart(16, '0');
  }

  /** The negotiated session timeout. */
  get sessionTimeoutMs(): number {
    return this.client.sessionTimeoutMs;
  }

  async get(path: string, watcher?: ZkWatcher): Promise<{ data: Buffer; stat: ZkStat }> {
    return this.call('get', path, () => this.client.getData(path, watcher));
  }

  /** Like get(), but undefined when the node does not exist. */
  async getIfExists(path: string): Promise<{ data: Buffer; stat: ZkStat } | undefined> {
    try {
      return await this.get(path);
    } catch (error) {
      if (error instanceof ZkError && error.code === 'NO_NODE') return undefined;
      throw error;
    }
  }

  /** The node's children, or none when the node does not exist. */
  async childrenIfExists(path: string): Promise<string[]> {
    try {
      return (await this.children(path)).children;
    } catch (error) {
      if (error instanceof ZkError && error.code === 'NO_NODE') return [];
      throw error;
    }
  }

  /** The node's stat, or undefined when it does not exist (a watch then fires on its creation). */
  async exists(path: string, watcher?: ZkWatcher): Promise<ZkStat | undefined> {
    return this.call('exists', path, () => this.client.exists(path, watcher));
  }

  async children(path: string, watcher?: ZkWatcher): Promise<{ children: string[]; stat: ZkStat }> {
    return this.call('getChildren', path, () => this.client.getChildren(path, watcher));
  }

  /**
   * The node, with `watcher` set on it; or undefined when it does not exist, with `watcher` set to
   * fire on its creation. A node created between the read and the existence check is read, not
   * missed: an existence watch on a node that exists fires only on its next change. Without a
   * watcher, getIfExists().
   */
  async getWatched(
    path: string,
    watcher: ZkWatcher | undefined,
  ): Promise<{ data: Buffer; stat: ZkStat } | undefined> {
    if (!watcher) return this.getIfExists(path);
    for (;;) {
      try {
        return await this.get(path, watcher);
      } catch (error) {
        if (!(error instanceof ZkError && error.code === 'NO_NODE')) throw error;
      }
      if (!(await this.exists(path, watcher))) return undefined;
    }
  }

  /**
   * The node's children, with `watcher` set on them; or undefined when the node does not exist, with
   * `watcher` set to fire on its creation. A node created meanwhile is listed: an existence watch
   * never fires when children come and go. Without a watcher, no watch is set.
   */
  async childrenWatched(
    path: string,
    watcher: ZkWatcher | undefined,
  ): Promise<{ children: string[]; stat: ZkStat } | undefined> {
    for (;;) {
      try {
        return await this.children(path, watcher);
      } catch (error) {
        if (!(error instanceof ZkError && error.code === 'NO_NODE')) throw error;
      }
      if (!watcher || !(await this.exists(path, watcher))) return undefined;
    }
  }

  /**
   * Sets the access policy every node this session creates gets its ACL from, unless a call names
   * one; without a policy, nodes get ZK_OPEN_ACL.
   */
  useAclPolicy(aclOf: AclOf | undefined): void {
    this.aclOf = aclOf;
  }

  /** Whether nodes created here get their ACL from an access policy. */
  get aclPolicyInUse(): boolean {
    return this.aclOf !== undefined;
  }

  /** The ACL a node created at `path` gets: `acl` when given, else the policy's, else ZK_OPEN_ACL. */
  private aclFor(path: string, acl: readonly ZkAcl[] | undefined): readonly ZkAcl[] | undefined {
    return acl ?? this.aclOf?.(path);
  }

  /** Creates a node; returns its path (with the counter, for sequential modes). `acl`: see aclFor. */
  async create(
    path: string,
    data: Uint8Array = EMPTY,
    mode: ZkCreateMode = 'persistent',
    acl?: readonly ZkAcl[],
  ): Promise<string> {
    return this.call('create', path, async () => {
      const nodeAcl = this.aclFor(path, acl);
      const created = await this.client.create(path, data, nodeAcl ? { mode, acl: nodeAcl } : { mode });
      return created.path;
    });
  }

  async set(path: string, data: Uint8Array, version = -1): Promise<ZkStat> {
    return this.call('setData', path, () => this.client.setData(path, data, version));
  }

  async remove(path: string, version = -1): Promise<void> {
    return this.call('remove', path, () => this.client.delete(path, version));
  }

  /**
   * Creates `path` and any missing parents as empty persistent nodes (each with `acl`, else the ACL
   * the policy gives its path, else ZK_OPEN_ACL); no error when it exists.
   */
  async mkdirp(path: string, acl?: readonly ZkAcl[]): Promise<void> {
    return this.call('mkdirp', path, () => this.makePath(path, acl));
  }

  private async makePath(path: string, acl: readonly ZkAcl[] | undefined): Promise<void> {
    if (path === '/') return;
    const nodeAcl = this.aclFor(path, acl);
    const options = nodeAcl ? { acl: nodeAcl } : {};
    try {
      await this.client.create(path, EMPTY, options);
    } catch (error) {
      if (!(error instanceof ZkError)) throw error;
      if (error.code === 'NODE_EXISTS') return;
      if (error.code !== 'NO_NODE') throw error;
      // Try the whole path first: the parents usually exist.
      await this.makePath(path.slice(0, path.lastIndexOf('/')) || '/', acl);
      try {
        await this.client.create(path, EMPTY, options);
      } catch (retryError) {
        if (!(retryError instanceof ZkError && retryError.code === 'NODE_EXISTS')) throw retryError;
      }
    }
  }

  /**
   * Applies operations atomically: all or none, in one zxid. On failure the ZkError's `opIndex` and
   * `path` name the operation that failed. Callers keep the request under ZK_MAX_REQUEST_BYTES.
   */
  async multi(ops: readonly ZkOp[]): Promise<void> {
    if (ops.length === 0) return;
    await this.call('multi', undefined, async () =>
      this.client.multi(
        this.aclOf
          ? ops.map((op) =>
              op.op === 'create' && !op.acl ? { ...op, acl: this.aclFor(op.path, undefined) } : op,
            )
          : ops,
      ),
    );
  }

  /**
   * Watches `path` (`persistent`), or it and every node below it (`persistent-recursive`, which
   * reports no `children` events), until the returned function removes the watch. It survives
   * reconnects but not session expiry; changes made while disconnected are not replayed: re-read on
   * `connected`.
   */
  async addWatch(path: string, mode: ZkWatchMode, listener: ZkWatcher): Promise<() => Promise<void>> {
    // A listener of its own per call, so that two calls with one function remove separately.
    const registered: WatchListener = (event) => listener(event);
    await this.call('addWatch', path, () => this.client.addWatch(path, mode, registered));
    return () => this.call('removeWatches', path, () => this.client.removeWatch(path, mode, registered));
  }

  /** Waits until the server this session talks to has caught up with the leader, for reads that must see the latest write. */
  async sync(path: string): Promise<void> {
    return this.call('sync', path, () => this.client.sync(path));
  }

  /** The node's ACL, and its stat (`aversion` is the version setAcl checks). */
  async getAcl(path: string): Promise<{ acl: ZkAcl[]; stat: ZkStat }> {
    return this.call('getAcl', path, () => this.client.getAcl(path));
  }

  /** Replaces the node's ACL if its `aversion` is `version` (-1: any). */
  async setAcl(path: string, acl: readonly ZkAcl[], version = -1): Promise<ZkStat> {
    return this.call('setAcl', path, () => this.client.setAcl(path, acl, version));
  }

  async close(): Promise<void> {
    this.clearLostTimer();
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.emit('state', 'closed');
    // Tells the server when connected (or about to be), so ephemeral nodes go now, not after the timeout.
    await this.client.close();
  }

  /** Runs one client call with a deadline. */
  private call<T>(operation: string, path: string | undefined, run: () => Promise<T>): Promise<T> {
    if (this.currentState === 'closed' || this.currentState === 'expired') {
      return Promise.reject(
        new ZkError(
          this.currentState === 'closed' ? 'CLOSED' : 'SESSION_EXPIRED',
          `ZooKeeper ${operation}${path ? ` ${path}` : ''}: the session is ${this.currentState}`,
          path ? { path } : {},
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new ZkError(
            'TIMEOUT',
            `ZooKeeper ${operation}${path ? ` ${path}` : ''} got no answer within ${this.requestTimeoutMs} ms (state: ${this.currentState})`,
            path ? { path } : {},
          ),
        );
      }, this.requestTimeoutMs);
      run().then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          // Given up as expired here (expireLocally), the client was closed under the call.
          if (error instanceof ZkError && error.code === 'CLOSED' && this.currentState === 'expired')
            reject(
              new ZkError(
                'SESSION_EXPIRED',
                `ZooKeeper ${operation}${path ? ` ${path}` : ''}: the session expired (disconnected for longer than its timeout)`,
                { ...(path ? { path } : {}), cause: error },
              ),
            );
          else reject(error);
        },
      );
    });
  }
}
