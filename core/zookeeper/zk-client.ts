import { EventEmitter } from 'node:events';
import { parseConnectString, type ServerAddress, toClientPath, toServerPath } from './connect-string.js';
import type { JuteReader } from './protocol/jute-reader.js';
import type { JuteWriter } from './protocol/jute-writer.js';
import { AddWatchMode, CreateFlags, ErrorNumber, OpCode, WatcherType, Xid } from './protocol/op-codes.js';
import {
  connectFrame,
  multiSizeHint,
  setWatchesOpCode,
  splitWatchSet,
  type WatchSet,
  type WireOp,
  writeRequest,
} from './protocol/requests.js';
import { type ConnectResponse, readResponse, type WatcherEvent } from './protocol/responses.js';
import { ReadBatch } from './read-batch.js';
import { type OutgoingRequest, ServerConnection } from './server-connection.js';
import { type PersistentMode, type WatchListener, WatchRegistry } from './watch-registry.js';
import { ZK_OPEN_ACL, type ZkAcl } from './zk-acl.js';
import { connectionLoss, serverError, ZkError } from './zk-error.js';
import type { ZkStat } from './zk-stat.js';

export type ZkCreateMode = 'persistent' | 'ephemeral' | 'persistent-sequential' | 'ephemeral-sequential';

/** One operation of an atomic multi() transaction. `acl` defaults to ZK_OPEN_ACL. */
export type ZkOp =
  | {
      readonly op: 'create';
      readonly path: string;
      readonly data?: Uint8Array;
      readonly mode?: ZkCreateMode;
      readonly acl?: readonly ZkAcl[];
    }
  | { readonly op: 'set'; readonly path: string; readonly data: Uint8Array; readonly version?: number }
  | { readonly op: 'remove'; readonly path: string; readonly version?: number }
  | { readonly op: 'check'; readonly path: string; readonly version: number };

/** What each operation of a successful multi() did. */
export type ZkOpResult =
  | { readonly op: 'create'; readonly path: string; readonly stat: ZkStat | undefined }
  | { readonly op: 'set'; readonly stat: ZkStat }
  | { readonly op: 'remove' }
  | { readonly op: 'check' };

/** Credentials a session presents on every connection. `credentials` is `user:password`. */
export interface ZkAuth {
  readonly scheme: 'digest';
  readonly credentials: string;
}

export interface ZkClientOptions {
  /** Comma-separated host:port list, optionally followed by a chroot: `h1:2181,h2:2181/cairn`. */
  readonly connectString: string;
  /** Requested session timeout; the server clamps it to its bounds. Default 10 s. */
  readonly sessionTimeoutMs?: number;
  readonly auth?: readonly ZkAuth[];
  /** How long one connection attempt (TCP connect and handshake) may take. Default: the session timeout shared among the servers, at most a third of it, at least 1 s. */
  readonly connectAttemptTimeoutMs?: number;
}

/**
 * `connecting` until the first session is established; `disconnected` while it reconnects;
 * `expired`, `auth-failed` and `closed` are final.
 */
export type ZkClientState =
  | 'connecting'
  | 'connected'
  | 'disconnected'
  | 'expired'
  | 'auth-failed'
  | 'closed';

const CREATE_FLAGS: Readonly<Record<ZkCreateMode, number>> = {
  persistent: CreateFlags.persistent,
  ephemeral: CreateFlags.ephemeral,
  'persistent-sequential': CreateFlags.persistentSequential,
  'ephemeral-sequential': CreateFlags.ephemeralSequential,
};

const ADD_WATCH_MODES: Readonly<Record<PersistentMode, number>> = {
  persistent: AddWatchMode.persistent,
  'persistent-recursive': AddWatchMode.persistentRecursive,
};

const DEFAULT_SESSION_TIMEOUT_MS = 10_000;
const MIN_ATTEMPT_TIMEOUT_MS = 1_000;

/**
 * The session timeout shared among the servers, as the Java client does, but at most a third of it:
 * a starting server can accept a connection and never answer it, and one such attempt must leave
 * time for others before the session expires.
 */
function attemptTimeout(sessionTimeoutMs: number, servers: number): number {
  return Math.max(
    Math.floor(Math.min(sessionTimeoutMs / servers, sessionTimeoutMs / 3)),
    MIN_ATTEMPT_TIMEOUT_MS,
  );
}
/** A new connection after a lost one waits up to this, so clients of a restarted server do not all come at once. */
const RECONNECT_JITTER_MS = 100;
/** After every server failed once in a row, the next round waits this long plus as much again at random. */
const ROUND_PAUSE_MS = 250;
/** How long close() waits for a handshake in progress or for the server to confirm closeSession. */
const CLOSE_GRACE_MS = 1_000;
const EMPTY = Buffer.alloc(0);

/**
 * A ZooKeeper client on the server's wire protocol: one session over a succession of connections.
 * It reconnects by itself (rotating through the servers), re-establishes the session with its id,
 * password and last zxid, presents its credentials again and sets its watches again, in packets of
 * at most 128 KB. Requests made while not connected wait for the connection attempt under way and
 * fail with CONNECTION_LOSS if it fails; after expiry or close they fail at once. Many requests are
 * in flight on one connection; those made in one tick leave in one write.
 *
 * Calls have no deadline here: ZkSession adds one to each.
 */
export class ZkClient extends EventEmitter<{ state: [ZkClientState] }> {
  private readonly servers: readonly ServerAddress[];
  private readonly chroot: string;
  private readonly requestedTimeoutMs: number;
  private readonly auth: readonly ZkAuth[];
  private readonly attemptTimeoutMs: number | undefined;
  private readonly watches = new WatchRegistry();
  private currentState: ZkClientState = 'connecting';
  private connection: ServerConnection | undefined;
  private waiting: OutgoingRequest[] = [];
  private id = 0n;
  private password: Uint8Array = new Uint8Array(16);
  private negotiatedTimeoutMs = 0;
  private lastZxid = 0n;
  private xid = 0;
  private nextServer = 0;
  private failuresInRow = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private started = false;
  private closing: Promise<void> | undefined;
  private handshakeSettled: (() => void) | undefined;
  private deliveries: (() => void)[] = [];
  /** Unwatched reads not yet sent: they leave together, before any other request. */
  private readBatch: ReadBatch | undefined;

  constructor(options: ZkClientOptions) {
    super();
    const parsed = parseConnectString(options.connectString);
    // Shuffled, as the Java client does, so that clients spread over the ensemble.
    this.servers = [...parsed.servers].sort(() => Math.random() - 0.5);
    this.chroot = parsed.chroot;
    this.requestedTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.auth = options.auth ?? [];
    this.attemptTimeoutMs = options.connectAttemptTimeoutMs;
  }

  /** Starts connecting; watch `state` for `connected`. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.openConnection();
  }

  get state(): ZkClientState {
    return this.currentState;
  }

  /** 0n until the first connection is established. */
  get sessionId(): bigint {
    return this.id;
  }

  /** The negotiated session timeout once connected, the requested one before. */
  get sessionTimeoutMs(): number {
    return this.negotiatedTimeoutMs || this.requestedTimeoutMs;
  }

  /**
   * Reads without a watch made together (one after the other with no other request between them,
   * in one tick) leave as multiRead requests of up to MAX_BATCHED_READS: each still has its own
   * answer and error, in order (read-batch.ts).
   */
  getData(path: string, watch?: WatchListener): Promise<{ data: Buffer; stat: ZkStat }> {
    return this.submit(
      'getData',
      path,
      OpCode.getData,
      writeRequest.pathWatch(this.server(path), !!watch),
      (r) => {
        const result = readResponse.data(r);
        if (watch) this.watches.add('data', path, watch);
        return result;
      },
      watch || typeof path !== 'string' ? {} : { batchAs: this.server(path) },
    );
  }

  /** The node's stat, or undefined when it does not exist (a watch then fires on its creation). */
  exists(path: string, watch?: WatchListener): Promise<ZkStat | undefined> {
    return this.submit(
      'exists',
      path,
      OpCode.exists,
      writeRequest.pathWatch(this.server(path), !!watch),
      (r, err) => {
        if (err === ErrorNumber.noNode) {
          if (watch) this.watches.add('exist', path, watch);
          return undefined;
        }
        const stat = readResponse.stat(r);
        if (watch) this.watches.add('data', path, watch);
        return stat;
      },
      { accept: ErrorNumber.noNode },
    );
  }

  getChildren(path: string, watch?: WatchListener): Promise<{ children: string[]; stat: ZkStat }> {
    return this.submit(
      'getChildren',
      path,
      OpCode.getChildren2,
      writeRequest.pathWatch(this.server(path), !!watch),
      (r) => {
        const result = readResponse.children(r);
        if (watch) this.watches.add('child', path, watch);
        return result;
      },
    );
  }

  create(
    path: string,
    data: Uint8Array = EMPTY,
    options: { mode?: ZkCreateMode; acl?: readonly ZkAcl[] } = {},
  ): Promise<{ path: string; stat: ZkStat }> {
    const flags = CREATE_FLAGS[options.mode ?? 'persistent'];
    return this.submit(
      'create',
      path,
      OpCode.create2,
      writeRequest.create(this.server(path), data, options.acl ?? ZK_OPEN_ACL, flags),
      (r) => {
        const created = readResponse.create2(r);
        return { path: this.client(created.path), stat: created.stat };
      },
      { sizeHint: data.byteLength + path.length * 3 + 64 },
    );
  }

  setData(path: string, data: Uint8Array, version = -1): Promise<ZkStat> {
    return this.submit(
      'setData',
      path,
      OpCode.setData,
      writeRequest.setData(this.server(path), data, version),
      readResponse.stat,
      { sizeHint: data.byteLength + path.length * 3 + 32 },
    );
  }

  delete(path: string, version = -1): Promise<void> {
    return this.submit(
      'delete',
      path,
      OpCode.delete,
      writeRequest.pathVersion(this.server(path), version),
      () => {},
    );
  }

  /** The node's ACL and stat (`aversion` is the version setAcl checks). */
  getAcl(path: string): Promise<{ acl: ZkAcl[]; stat: ZkStat }> {
    return this.submit('getAcl', path, OpCode.getACL, writeRequest.path(this.server(path)), readResponse.acl);
  }

  setAcl(path: string, acl: readonly ZkAcl[], version = -1): Promise<ZkStat> {
    return this.submit(
      'setAcl',
      path,
      OpCode.setACL,
      writeRequest.setAcl(this.server(path), acl, version),
      readResponse.stat,
    );
  }

  /** Waits until the server this session is connected to has caught up with the leader on `path`. */
  sync(path: string): Promise<void> {
    return this.submit('sync', path, OpCode.sync, writeRequest.path(this.server(path)), () => {});
  }

  /**
   * Applies operations atomically: all or none, in one zxid. On failure the ZkError's `opIndex` and
   * `path` name the operation that failed.
   */
  multi(ops: readonly ZkOp[]): Promise<ZkOpResult[]> {
    const wire = ops.map((op) => this.wireOp(op));
    return this.submit(
      'multi',
      undefined,
      OpCode.multi,
      writeRequest.multi(wire),
      (r) => {
        const results = readResponse.multi(r);
        // Operations before the failing one report OK, those after it RUNTIME_INCONSISTENCY.
        const failed = results.findIndex(
          (result) =>
            result.type === 'error' &&
            result.err !== ErrorNumber.ok &&
            result.err !== ErrorNumber.runtimeInconsistency,
        );
        if (failed >= 0) {
          const result = results[failed] as { err: number };
          throw serverError(result.err, 'multi', ops[failed]?.path, failed);
        }
        return results.map((result): ZkOpResult => {
          switch (result.type) {
            case 'create':
              return { op: 'create', path: this.client(result.path), stat: result.stat };
            case 'set':
              return { op: 'set', stat: result.stat };
            case 'remove':
              return { op: 'remove' };
            default:
              return { op: 'check' };
          }
        });
      },
      { sizeHint: multiSizeHint(wire) },
    );
  }

  /**
   * Sets a watch that fires on every change of `path` (`persistent`) or of it and every node below
   * it (`persistent-recursive`, never for children changes) until removed; it survives reconnects.
   * Changes made while disconnected are not replayed: re-read after a reconnect.
   */
  addWatch(path: string, mode: PersistentMode, listener: WatchListener): Promise<void> {
    return this.submit(
      'addWatch',
      path,
      OpCode.addWatch,
      writeRequest.addWatch(this.server(path), ADD_WATCH_MODES[mode]),
      () => {
        this.watches.add(mode, path, listener);
      },
    );
  }

  /**
   * Removes a listener addWatch set. The server forgets the path's watches only when no listener of
   * any kind is left on it (a 3.8 server removes all of a path's watches at once); until then the
   * events it still sends reach no removed listener.
   */
  async removeWatch(path: string, mode: PersistentMode, listener: WatchListener): Promise<void> {
    if (!this.watches.remove(mode, path, listener) || this.currentState !== 'connected') return;
    await this.submit(
      'removeWatches',
      path,
      OpCode.removeWatches,
      writeRequest.removeWatches(this.server(path), WatcherType.any),
      () => {},
      { accept: ErrorNumber.noWatcher },
    );
  }

  /**
   * Ends the session: tells the server (so its ephemeral nodes go at once) when connected or about
   * to be, then closes the connection. Requests waiting or in flight fail with CLOSED or CONNECTION_LOSS.
   */
  close(): Promise<void> {
    this.closing ??= this.closeSession();
    return this.closing;
  }

  private async closeSession(): Promise<void> {
    const before = this.currentState;
    if (before === 'closed') return;
    // Reads made before close() leave before the session's end, as every request made before it.
    this.sendReadBatch();
    clearTimeout(this.retryTimer);
    this.currentState = 'closed';
    this.failWaiting(this.finalError());
    this.emit('state', 'closed');
    const connection = this.connection;
    if (!connection || connection.closed) return;
    if (!connection.established) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, CLOSE_GRACE_MS);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.handshakeSettled = done;
      });
      this.handshakeSettled = undefined;
    }
    if (connection.established) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, CLOSE_GRACE_MS);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        connection.send({ opCode: OpCode.closeSession, reply: done, fail: done });
      });
    }
    connection.close(new ZkError('CLOSED', 'ZooKeeper session closed'));
    this.connection = undefined;
    this.watches.clear();
  }

  private openConnection(): void {
    this.retryTimer = undefined;
    if (this.final) return;
    const server = this.servers[this.nextServer % this.servers.length]!;
    this.nextServer++;
    const handshake = connectFrame({
      lastZxidSeen: this.lastZxid,
      timeoutMs: this.requestedTimeoutMs,
      sessionId: this.id,
      password: this.password,
    });
    const timeout = this.negotiatedTimeoutMs || this.requestedTimeoutMs;
    const connection: ServerConnection = new ServerConnection({
      server,
      handshake,
      attemptTimeoutMs: this.attemptTimeoutMs ?? attemptTimeout(timeout, this.servers.length),
      nextXid: () => {
        this.xid = this.xid >= 0x7fffffff ? 1 : this.xid + 1;
        return this.xid;
      },
      events: {
        established: (response) => this.onEstablished(connection, response),
        notification: (event) => this.onNotification(event),
        zxid: (zxid) => {
          if (zxid > this.lastZxid) this.lastZxid = zxid;
        },
        authFailed: () => this.finish('auth-failed'),
        closed: (reason, established) => this.onConnectionClosed(connection, reason, established),
      },
    });
    this.connection = connection;
  }

  private onEstablished(connection: ServerConnection, response: ConnectResponse): void {
    if (connection !== this.connection) return;
    if (this.currentState === 'closed') {
      this.handshakeSettled?.();
      return;
    }
    if (response.timeoutMs <= 0) {
      this.finish('expired');
      return;
    }
    this.id = response.sessionId;
    // A copy of its own: a slice of Node's shared buffer pool would pin a whole slab for the session's life.
    this.password = new Uint8Array(response.password);
    this.negotiatedTimeoutMs = response.timeoutMs;
    this.failuresInRow = 0;
    // The server answers in order: credentials first, then the watches, then what waited.
    for (const { scheme, credentials } of this.auth)
      connection.sendUnanswered(Xid.auth, OpCode.auth, writeRequest.auth(scheme, Buffer.from(credentials)));
    if (!this.watches.empty) {
      for (const batch of splitWatchSet(this.serverWatches(this.watches.snapshot()))) {
        connection.send({
          opCode: setWatchesOpCode(batch),
          xid: Xid.setWatches,
          write: writeRequest.setWatches(this.lastZxid, batch),
          reply: () => {},
          fail: () => {},
        });
      }
    }
    const waiting = this.waiting;
    this.waiting = [];
    for (const request of waiting) connection.send(request);
    this.setState('connected');
  }

  private onConnectionClosed(connection: ServerConnection, reason: ZkError, established: boolean): void {
    if (connection !== this.connection) return;
    this.connection = undefined;
    if (this.currentState === 'closed') {
      this.handshakeSettled?.();
      return;
    }
    if (this.final) return;
    let delay: number;
    if (established) {
      delay = Math.random() * RECONNECT_JITTER_MS;
      this.setState('disconnected');
    } else {
      // What waited for this attempt fails with it; requests made from now on wait for the next.
      this.failWaiting(reason);
      this.failuresInRow++;
      delay =
        this.failuresInRow % this.servers.length === 0 ? ROUND_PAUSE_MS + Math.random() * ROUND_PAUSE_MS : 0;
    }
    this.retryTimer = setTimeout(() => this.openConnection(), delay);
  }

  private onNotification(event: WatcherEvent): void {
    const path = toClientPath(this.chroot, event.path);
    if (path === undefined) return;
    const triggered = this.watches.materialize(event.type, path);
    if (!triggered || triggered.listeners.length === 0) return;
    // Listeners run after the answers read with them have settled their promises, in order.
    if (this.deliveries.length === 0) setImmediate(() => this.deliver());
    for (const listener of triggered.listeners) this.deliveries.push(() => listener(triggered.event));
  }

  private deliver(): void {
    const deliveries = this.deliveries;
    this.deliveries = [];
    for (const delivery of deliveries) {
      try {
        delivery();
      } catch (error) {
        // As the Java client's event thread: a failing watcher is reported and the others still run.
        process.emitWarning(error instanceof Error ? error : String(error), 'ZooKeeperWatcherWarning');
      }
    }
  }

  /** Final states: everything waiting fails, the connection and the watches go. */
  private finish(state: 'expired' | 'auth-failed'): void {
    if (this.final) return;
    this.sendReadBatch();
    this.currentState = state;
    clearTimeout(this.retryTimer);
    const reason = this.finalError();
    const connection = this.connection;
    this.connection = undefined;
    connection?.close(reason);
    this.failWaiting(reason);
    this.watches.clear();
    this.emit('state', state);
  }

  private failWaiting(reason: ZkError): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const request of waiting) request.fail(reason);
  }

  private setState(state: ZkClientState): void {
    if (this.currentState === state) return;
    this.currentState = state;
    this.emit('state', state);
  }

  private get final(): boolean {
    return (
      this.currentState === 'expired' || this.currentState === 'auth-failed' || this.currentState === 'closed'
    );
  }

  private submit<T>(
    operation: string,
    path: string | undefined,
    opCode: number,
    write: (writer: JuteWriter) => void,
    read: (reader: JuteReader, err: number) => T,
    options: { accept?: number; sizeHint?: number; batchAs?: string } = {},
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const request: OutgoingRequest = {
        opCode,
        write,
        ...(options.sizeHint !== undefined ? { sizeHint: options.sizeHint } : {}),
        reply: (err, body) => {
          if (err !== ErrorNumber.ok && err !== options.accept) {
            reject(serverError(err, operation, path));
            return;
          }
          let value: T;
          try {
            value = read(body, err);
          } catch (error) {
            // A failure the server reported inside the body (a multi's operation) is the caller's;
            // a packet that cannot be read is the connection's.
            if (error instanceof ZkError && error.code !== 'PROTOCOL_ERROR') {
              reject(error);
              return;
            }
            throw error;
          }
          resolve(value);
        },
        fail: (reason) => {
          const where = path ? ` ${path}` : '';
          reject(
            reason.code === 'CONNECTION_LOSS' || reason.code === 'PROTOCOL_ERROR'
              ? connectionLoss(operation, path, reason)
              : new ZkError(reason.code, `ZooKeeper ${operation}${where}: ${reason.message}`, {
                  ...(path !== undefined ? { path } : {}),
                  cause: reason,
                }),
          );
        },
      };
      if (options.batchAs !== undefined && !this.final) this.batchRead(options.batchAs, request);
      else this.dispatch(request);
    });
  }

  /** Sends a request, or queues it for the connection under way; after the reads made before it. */
  private dispatch(request: OutgoingRequest): void {
    this.sendReadBatch();
    switch (this.currentState) {
      case 'closed':
      case 'expired':
      case 'auth-failed':
        request.fail(this.finalError());
        return;
      case 'connected':
        if (this.connection?.established) {
          this.connection.send(request);
          return;
        }
    }
    this.waiting.push(request);
  }

  /** Adds an unwatched read to the batch open; it leaves when full, before another request, or at the end of the tick. */
  private batchRead(serverPath: string, request: OutgoingRequest): void {
    if (!this.readBatch) {
      this.readBatch = new ReadBatch();
      process.nextTick(() => this.sendReadBatch());
    }
    this.readBatch.add(serverPath, request);
    if (this.readBatch.full) this.sendReadBatch();
  }

  private sendReadBatch(): void {
    const batch = this.readBatch;
    if (!batch) return;
    this.readBatch = undefined;
    this.dispatch(batch.request());
  }

  /** Why requests fail in a final state; the request adds its operation and path. */
  private finalError(): ZkError {
    switch (this.currentState) {
      case 'expired':
        return new ZkError(
          'SESSION_EXPIRED',
          'the session expired: open a new one and read everything again',
        );
      case 'auth-failed':
        return new ZkError(
          'AUTH_FAILED',
          'ZooKeeper rejected the credentials: check the user:password given as auth',
        );
      default:
        return new ZkError('CLOSED', 'the session is closed');
    }
  }

  private wireOp(op: ZkOp): WireOp {
    const path = this.server(op.path);
    switch (op.op) {
      case 'create':
        return {
          type: 'create',
          path,
          data: op.data ?? EMPTY,
          acl: op.acl ?? ZK_OPEN_ACL,
          flags: CREATE_FLAGS[op.mode ?? 'persistent'],
        };
      case 'set':
        return { type: 'set', path, data: op.data, version: op.version ?? -1 };
      case 'remove':
        return { type: 'remove', path, version: op.version ?? -1 };
      case 'check':
        return { type: 'check', path, version: op.version };
    }
  }

  private server(path: string): string {
    return toServerPath(this.chroot, path);
  }

  private client(serverPath: string): string {
    return toClientPath(this.chroot, serverPath) ?? serverPath;
  }

  private serverWatches(watches: WatchSet): WatchSet {
    if (!this.chroot) return watches;
    const map = (paths: readonly string[]) => paths.map((path) => this.server(path));
    return {
      data: map(watches.data),
      exist: map(watches.exist),
      child: map(watches.child),
      persistent: map(watches.persistent),
      persistentRecursive: map(watches.persistentRecursive),
    };
  }
}
