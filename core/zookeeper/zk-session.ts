import { EventEmitter } from 'node:events';
import zookeeper from 'node-zookeeper-client';
import { toZkError, ZkError } from './zk-error.js';

/** A node's metadata, with zxids as bigints so they compare exactly. */
export interface ZkStat {
  readonly czxid: bigint;
  readonly mzxid: bigint;
  readonly pzxid: bigint;
  readonly version: number;
  readonly cversion: number;
  readonly dataLength: number;
  readonly numChildren: number;
  /** Session id of the owner for an ephemeral node, 0n otherwise. */
  readonly ephemeralOwner: bigint;
}

export type ZkCreateMode = 'persistent' | 'ephemeral' | 'persistent-sequential' | 'ephemeral-sequential';

/** One operation of an atomic multi() transaction. */
export type ZkOp =
  | { readonly op: 'create'; readonly path: string; readonly data?: Uint8Array; readonly mode?: ZkCreateMode }
  | { readonly op: 'set'; readonly path: string; readonly data: Uint8Array; readonly version?: number }
  | { readonly op: 'remove'; readonly path: string; readonly version?: number }
  | { readonly op: 'check'; readonly path: string; readonly version: number };

/** A one-shot ZooKeeper watch: fires once, for one change; re-arm by reading again. */
export type ZkWatcher = (event: {
  readonly type: 'created' | 'deleted' | 'changed' | 'children';
  readonly path: string;
}) => void;

export interface ZkSessionOptions {
  /** Comma-separated host:port list of the ensemble, optionally with a chroot. */
  readonly connectString: string;
  /** Requested session timeout; the server clamps it to its min/max (2x to 20x tickTime). Default 10 s. */
  readonly sessionTimeoutMs?: number;
  /** How long connect() waits for the first connection. Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** Deadline of every call. Default 10 s. node-zookeeper-client queues calls made while disconnected forever. */
  readonly requestTimeoutMs?: number;
}

type ClientError = Error | zookeeper.Exception | null;

export type ZkSessionState = 'connected' | 'disconnected' | 'expired' | 'closed';

const CREATE_MODES: Readonly<Record<ZkCreateMode, number>> = {
  persistent: zookeeper.CreateMode.PERSISTENT,
  ephemeral: zookeeper.CreateMode.EPHEMERAL,
  'persistent-sequential': zookeeper.CreateMode.PERSISTENT_SEQUENTIAL,
  'ephemeral-sequential': zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
};

const WATCH_EVENT_TYPES: Readonly<Record<number, 'created' | 'deleted' | 'changed' | 'children'>> = {
  [zookeeper.Event.NODE_CREATED]: 'created',
  [zookeeper.Event.NODE_DELETED]: 'deleted',
  [zookeeper.Event.NODE_DATA_CHANGED]: 'changed',
  [zookeeper.Event.NODE_CHILDREN_CHANGED]: 'children',
};

// Cairn's nodes are readable and writable by anyone who can reach the ensemble; secure the ensemble itself.
const OPEN_ACL = [new zookeeper.ACL(zookeeper.Permission.ALL, new zookeeper.Id('world', 'anyone'))];

const CLOSE_HANDSHAKE_GRACE_MS = 1000;

/** ZooKeeper's default jute.maxbuffer: the largest request or response a server accepts. */
export const ZK_MAX_REQUEST_BYTES = 1024 * 1024 - 1;

/**
 * One ZooKeeper session behind promises. Every call has a deadline and fails with a ZkError whose
 * `code` callers switch on. Emits `state` with a ZkSessionState: `expired` is final for this object —
 * open a new session (recipes above this one do) and re-read everything.
 */
export class ZkSession extends EventEmitter<{ state: [ZkSessionState] }> {
  private readonly client: zookeeper.Client;
  private readonly requestTimeoutMs: number;
  private currentState: ZkSessionState = 'disconnected';
  private lostTimer: NodeJS.Timeout | undefined;

  private constructor(client: zookeeper.Client, requestTimeoutMs: number) {
    super();
    this.client = client;
    this.requestTimeoutMs = requestTimeoutMs;
    client.on('state', (state) => {
      if (this.currentState === 'closed' || this.currentState === 'expired') return;
      const next = sessionState(state);
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
   * reconnect, which node-zookeeper-client may never achieve (a connection a restarting server
   * accepts but never answers leaves it waiting forever).
   */
  private expireLocally(): void {
    this.lostTimer = undefined;
    if (this.currentState !== 'disconnected') return;
    this.currentState = 'expired';
    this.emit('state', 'expired');
    this.client.close();
    // The library would still wait on a socket that may never answer: end it.
    this.destroyConnection();
  }

  private clearLostTimer(): void {
    clearTimeout(this.lostTimer);
    this.lostTimer = undefined;
  }

  static async connect(options: ZkSessionOptions): Promise<ZkSession> {
    const client = zookeeper.createClient(options.connectString, {
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      spinDelay: 200,
      retries: 0,
    });
    const session = new ZkSession(client, options.requestTimeoutMs ?? 10_000);
    const connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.close();
        reject(
          new ZkError(
            'TIMEOUT',
            `could not connect to ZooKeeper at ${options.connectString} within ${connectTimeoutMs} ms: is it running and reachable?`,
          ),
        );
      }, connectTimeoutMs);
      client.once('connected', () => {
        clearTimeout(timer);
        resolve();
      });
      client.connect();
    });
    return session;
  }

  get state(): ZkSessionState {
    return this.currentState;
  }

  /** The session id as hex, as ZooKeeper's own logs print it. */
  get sessionId(): string {
    return this.client.getSessionId().toString('hex');
  }

  /** The negotiated session timeout. */
  get sessionTimeoutMs(): number {
    return this.client.getSessionTimeout();
  }

  async get(path: string, watcher?: ZkWatcher): Promise<{ data: Buffer; stat: ZkStat }> {
    return this.call('get', path, (done) => {
      const callback = (error: ClientError, data: Buffer | undefined, stat: zookeeper.Stat) =>
        error
          ? done(error, undefined as never)
          : done(null, { data: data ?? Buffer.alloc(0), stat: toStat(stat) });
      if (watcher) this.client.getData(path, wrapWatcher(watcher), callback);
      else this.client.getData(path, callback);
    });
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
    return this.call('exists', path, (done) => {
      const callback = (error: ClientError, stat: zookeeper.Stat | undefined) =>
        error ? done(error, undefined) : done(null, stat ? toStat(stat) : undefined);
      if (watcher) this.client.exists(path, wrapWatcher(watcher), callback);
      else this.client.exists(path, callback);
    });
  }

  async children(path: string, watcher?: ZkWatcher): Promise<{ children: string[]; stat: ZkStat }> {
    return this.call('getChildren', path, (done) => {
      const callback = (error: ClientError, children: string[], stat: zookeeper.Stat) =>
        error ? done(error, undefined as never) : done(null, { children, stat: toStat(stat) });
      if (watcher) this.client.getChildren(path, wrapWatcher(watcher), callback);
      else this.client.getChildren(path, callback);
    });
  }

  /** Creates a node; returns its path (with the counter, for sequential modes). */
  async create(
    path: string,
    data: Uint8Array = Buffer.alloc(0),
    mode: ZkCreateMode = 'persistent',
  ): Promise<string> {
    return this.call('create', path, (done) => {
      this.client.create(path, asBuffer(data), CREATE_MODES[mode], (error, created) => done(error, created));
    });
  }

  async set(path: string, data: Uint8Array, version = -1): Promise<ZkStat> {
    return this.call('setData', path, (done) => {
      this.client.setData(path, asBuffer(data), version, (error, stat) =>
        error ? done(error, undefined as never) : done(null, toStat(stat)),
      );
    });
  }

  async remove(path: string, version = -1): Promise<void> {
    return this.call('remove', path, (done) => {
      this.client.remove(path, version, (error) => done(error, undefined));
    });
  }

  /** Creates `path` and any missing parents as empty persistent nodes; no error when it exists. */
  async mkdirp(path: string): Promise<void> {
    return this.call('mkdirp', path, (done) => {
      this.client.mkdirp(path, (error) => done(error, undefined));
    });
  }

  /**
   * Applies operations atomically: all or none, in one zxid. On failure the ZkError's `opIndex` and
   * `path` name the operation that failed. Callers keep the request under ZK_MAX_REQUEST_BYTES.
   */
  async multi(ops: readonly ZkOp[]): Promise<void> {
    if (ops.length === 0) return;
    const transaction = this.client.transaction();
    for (const op of ops) {
      switch (op.op) {
        case 'create':
          transaction.create(
            op.path,
            asBuffer(op.data ?? EMPTY),
            OPEN_ACL,
            CREATE_MODES[op.mode ?? 'persistent'],
          );
          break;
        case 'set':
          transaction.setData(op.path, asBuffer(op.data), op.version ?? -1);
          break;
        case 'remove':
          transaction.remove(op.path, op.version ?? -1);
          break;
        case 'check':
          transaction.check(op.path, op.version);
          break;
      }
    }
    await this.call('multi', undefined, (done) => {
      transaction.commit((error, results) => {
        if (!error) return done(null, undefined);
        // Operations before the failing one report OK, those after it RUNTIME_INCONSISTENCY (-2).
        const index = (results ?? []).findIndex(
          (r: { err?: number }) => r.err !== undefined && r.err !== 0 && r.err !== -2,
        );
        done(
          toZkError(
            error,
            'multi',
            index >= 0 ? ops[index]?.path : undefined,
            index >= 0 ? index : undefined,
          ),
          undefined,
        );
      });
    });
  }

  async close(): Promise<void> {
    this.clearLostTimer();
    if (this.currentState === 'closed') return;
    if (this.currentState === 'expired') {
      // The connection is already gone: the server said so, or expireLocally() ended it.
      this.currentState = 'closed';
      this.emit('state', 'closed');
      return;
    }
    if (this.currentState === 'disconnected') {
      // node-zookeeper-client misreads the server's handshake answer as a reply when close() lands
      // while it reconnects, and throws from its socket handler: let a reconnect in flight finish.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, CLOSE_HANDSHAKE_GRACE_MS);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.once('state', done);
      });
    }
    // close() may have been called again while waiting.
    if ((this.currentState as ZkSessionState) === 'closed') return;
    const connected = (this.currentState as ZkSessionState) === 'connected';
    this.currentState = 'closed';
    this.emit('state', 'closed');
    this.client.close();
    // Still not connected: end the connection attempt instead of letting a later handshake meet a
    // closing client. The server expires the session after its timeout.
    if (!connected) this.destroyConnection();
  }

  /** Ends the library's socket so it stops reconnecting (node-zookeeper-client has no API for it). */
  private destroyConnection(): void {
    (
      this.client as unknown as { connectionManager?: { socket?: { destroy(): void } } }
    ).connectionManager?.socket?.destroy();
  }

  /** Runs one client call with a deadline, translating its error. */
  private call<T>(
    operation: string,
    path: string | undefined,
    run: (done: (error: ClientError | undefined, value: T) => void) => void,
  ): Promise<T> {
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
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        reject(
          new ZkError(
            'TIMEOUT',
            `ZooKeeper ${operation}${path ? ` ${path}` : ''} got no answer within ${this.requestTimeoutMs} ms (state: ${this.currentState})`,
            path ? { path } : {},
          ),
        );
      }, this.requestTimeoutMs);
      run((error, value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(toZkError(error, operation, path));
        else resolve(value);
      });
    });
  }
}

function sessionState(state: zookeeper.State): ZkSessionState | undefined {
  if (state === zookeeper.State.SYNC_CONNECTED || state === zookeeper.State.CONNECTED_READ_ONLY)
    return 'connected';
  if (state === zookeeper.State.DISCONNECTED) return 'disconnected';
  if (state === zookeeper.State.EXPIRED) return 'expired';
  return undefined;
}

function wrapWatcher(watcher: ZkWatcher): (event: zookeeper.Event) => void {
  return (event) => {
    const type = WATCH_EVENT_TYPES[event.getType()];
    if (type) watcher({ type, path: event.getPath() });
  };
}

const EMPTY = Buffer.alloc(0);

/** A Buffer view of the bytes, without copying them: commits carry megabytes. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function toStat(stat: zookeeper.Stat): ZkStat {
  const long = (value: unknown): bigint =>
    Buffer.isBuffer(value) ? value.readBigInt64BE(0) : BigInt(Number(value ?? 0));
  return {
    czxid: long(stat.czxid),
    mzxid: long(stat.mzxid),
    pzxid: long(stat.pzxid),
    version: stat.version,
    cversion: stat.cversion,
    dataLength: stat.dataLength,
    numChildren: stat.numChildren,
    ephemeralOwner: long(stat.ephemeralOwner),
  };
}
