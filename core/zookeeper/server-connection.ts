import { connect, type Socket } from 'node:net';
import type { ServerAddress } from './connect-string.js';
import { FrameDecoder } from './protocol/frame-decoder.js';
import { JuteReader, protocolError } from './protocol/jute-reader.js';
import type { JuteWriter } from './protocol/jute-writer.js';
import { ErrorNumber, OpCode, Xid } from './protocol/op-codes.js';
import { requestFrame } from './protocol/requests.js';
import { type ConnectResponse, readResponse, type WatcherEvent } from './protocol/responses.js';
import { ZkError } from './zk-error.js';

/** How late a timer may fire before its lateness counts as the event loop having been blocked. */
const STALL_MS = 200;

/** A request on its way: how to write it, and what to do with its answer. */
export interface OutgoingRequest {
  readonly opCode: number;
  /** Set for the few requests with a fixed xid (setWatches); others take the next of the counter. */
  readonly xid?: number;
  readonly write?: (writer: JuteWriter) => void;
  readonly sizeHint?: number;
  /** The server's answer: its error number and a reader at the body. May throw a PROTOCOL_ERROR. */
  reply(err: number, body: JuteReader): void;
  /** The connection ended before the answer came, for `reason`. */
  fail(reason: ZkError): void;
}

/** What a connection tells the client that owns it. Called at most once each for `established` and `closed`. */
export interface ConnectionEvents {
  established(response: ConnectResponse): void;
  notification(event: WatcherEvent): void;
  /** The highest zxid a reply carried, for the next connect request. */
  zxid(zxid: bigint): void;
  authFailed(): void;
  /** The connection is gone; `established` says whether its handshake had completed. */
  closed(reason: ZkError, established: boolean): void;
}

export interface ServerConnectionOptions {
  readonly server: ServerAddress;
  /** The connect request, sent first. */
  readonly handshake: Buffer;
  /** How long the TCP connect and the handshake answer may take together. */
  readonly attemptTimeoutMs: number;
  readonly nextXid: () => number;
  readonly events: ConnectionEvents;
}

/**
 * One TCP connection to one server, for one attempt: its own socket, its own frame decoder and
 * its own queue of requests awaiting answers. Nothing leaves its socket handlers as an exception: a
 * malformed packet, an answer to no request or a silent server closes this connection (requests in
 * flight fail with CONNECTION_LOSS), and the owner opens a new one. Once closed, its socket's events
 * are ignored, so a late byte of an old socket can never be read as part of a new conversation.
 */
export class ServerConnection {
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder();
  private readonly options: Omit<ServerConnectionOptions, 'handshake'>;
  private handshake: Buffer | undefined;
  /** Requests awaiting answers, oldest first from `inFlightHead`; answered slots are cleared at once. */
  private inFlight: ({ readonly xid: number; readonly request: OutgoingRequest } | undefined)[] = [];
  private inFlightHead = 0;
  private isEstablished = false;
  private done = false;
  private corked = false;
  private timer: NodeJS.Timeout | undefined;
  private lastReceivedAt = 0;
  private lastSentAt = 0;
  private pingIntervalMs = 0;
  private readTimeoutMs = 0;

  constructor(options: ServerConnectionOptions) {
    const { handshake, ...rest } = options;
    this.options = rest;
    this.handshake = handshake;
    const { server, attemptTimeoutMs } = rest;
    const socket = connect({ host: server.host, port: server.port, noDelay: true });
    this.socket = socket;
    socket.on('connect', () => this.guard(() => this.sendHandshake()));
    socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    socket.on('error', (error) => this.close(connectionFailure(server, error)));
    socket.on('close', () => this.close(connectionFailure(server, 'the server closed the connection')));
    let deadline = Date.now() + attemptTimeoutMs;
    const checkHandshake = (late: number) => {
      if (this.isEstablished) return;
      deadline += late;
      const left = deadline - Date.now();
      if (left > 0) this.arm(left, checkHandshake);
      else this.close(connectionFailure(server, `no answer to the handshake within ${attemptTimeoutMs} ms`));
    };
    this.arm(attemptTimeoutMs, checkHandshake);
  }

  /** Sends the connect request, and lets it go: nothing here keeps bytes longer than it needs them. */
  private sendHandshake(): void {
    if (this.handshake) this.write(this.handshake);
    this.handshake = undefined;
  }

  get established(): boolean {
    return this.isEstablished && !this.done;
  }

  get closed(): boolean {
    return this.done;
  }

  /**
   * Pings every third of the session timeout and drops the connection when nothing arrived for
   * two thirds of it, as the Java client does: a server that accepts but never answers is left.
   */
  private keepAlive(sessionTimeoutMs: number): void {
    this.pingIntervalMs = Math.max(Math.floor(sessionTimeoutMs / 3), 1);
    this.readTimeoutMs = Math.max(Math.floor((sessionTimeoutMs * 2) / 3), 1);
    this.lastReceivedAt = Date.now();
    this.schedule();
  }

  /** Sends a request; it fails at once with CONNECTION_LOSS if this connection is closed. */
  send(request: OutgoingRequest): void {
    if (this.done) {
      request.fail(connectionFailure(this.options.server, 'the connection is closed'));
      return;
    }
    const xid = request.xid ?? this.options.nextXid();
    let frame: Buffer;
    try {
      frame = requestFrame(xid, request.opCode, request.write, request.sizeHint);
    } catch (error) {
      // Arguments the wire format cannot carry (a path that is not a string, say): this request
      // fails alone, before anything of it is in flight.
      request.fail(
        new ZkError('BAD_ARGUMENTS', `the request cannot be encoded: ${String(error)}`, { cause: error }),
      );
      return;
    }
    this.inFlight.push({ xid, request });
    this.write(frame);
  }

  /** Sends a request whose answer is not awaited here (auth: answered with its fixed xid). */
  sendUnanswered(xid: number, opCode: number, write?: (writer: JuteWriter) => void): void {
    if (!this.done) this.write(requestFrame(xid, opCode, write));
  }

  /** Ends the connection (idempotent). Requests in flight fail with CONNECTION_LOSS caused by `reason`. */
  close(reason: ZkError): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.socket.destroy();
    const failed = this.inFlight.slice(this.inFlightHead);
    this.inFlight = [];
    for (const entry of failed) entry?.request.fail(reason);
    try {
      this.options.events.closed(reason, this.isEstablished);
    } catch (error) {
      process.emitWarning(error instanceof Error ? error : String(error), 'ZooKeeperClientWarning');
    }
  }

  /** Runs a socket handler so that nothing escapes it: a failure closes this connection instead. */
  private guard(handler: () => void): void {
    if (this.done) return;
    try {
      handler();
    } catch (error) {
      this.close(
        error instanceof ZkError
          ? error
          : new ZkError('PROTOCOL_ERROR', `ZooKeeper client failed on a packet: ${String(error)}`, {
              cause: error,
            }),
      );
    }
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.decoder.push(chunk)) {
      if (this.done) return;
      this.lastReceivedAt = Date.now();
      if (this.isEstablished) this.onReply(new JuteReader(frame));
      else this.onHandshake(new JuteReader(frame));
    }
  }

  private onHandshake(reader: JuteReader): void {
    const response = readResponse.connect(reader);
    clearTimeout(this.timer);
    this.timer = undefined;
    this.isEstablished = true;
    if (response.timeoutMs > 0) this.keepAlive(response.timeoutMs);
    this.options.events.established(response);
  }

  private onReply(reader: JuteReader): void {
    const header = readResponse.header(reader);
    switch (header.xid) {
      case Xid.ping:
        return;
      case Xid.auth:
        if (header.err === ErrorNumber.authFailed) this.options.events.authFailed();
        return;
      case Xid.notification:
        this.options.events.notification(readResponse.watcherEvent(reader));
        return;
    }
    const entry = this.inFlight[this.inFlightHead];
    if (!entry) throw protocolError(`an answer with xid ${header.xid} to no request`);
    if (header.xid !== entry.xid)
      throw protocolError(`an answer with xid ${header.xid} where xid ${entry.xid} was due`);
    const request = entry.request;
    // Answered requests are let go at once: they hold callbacks and the bytes they carried.
    this.inFlight[this.inFlightHead++] = undefined;
    if (this.inFlightHead === this.inFlight.length) {
      this.inFlight = [];
      this.inFlightHead = 0;
    } else if (this.inFlightHead > 1024 && this.inFlightHead * 2 > this.inFlight.length) {
      this.inFlight.splice(0, this.inFlightHead);
      this.inFlightHead = 0;
    }
    if (header.zxid > 0n) this.options.events.zxid(header.zxid);
    try {
      request.reply(header.err, reader);
    } catch (error) {
      // The packet could not be read: its request failed with the connection, like those after it.
      request.fail(error instanceof ZkError ? error : protocolError(String(error)));
      throw error;
    }
  }

  /** Writes are corked until the end of the tick: requests made together leave in one write. */
  private write(frame: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.lastSentAt = Date.now();
    this.socket.write(frame);
  }

  private schedule(late = 0): void {
    this.lastReceivedAt += late;
    const now = Date.now();
    const silentFor = now - this.lastReceivedAt;
    if (silentFor >= this.readTimeoutMs) {
      this.close(
        connectionFailure(
          this.options.server,
          `nothing received for ${silentFor} ms (read timeout ${this.readTimeoutMs} ms)`,
        ),
      );
      return;
    }
    if (now - this.lastSentAt >= this.pingIntervalMs) this.write(requestFrame(Xid.ping, OpCode.ping));
    const next = Math.min(
      this.lastReceivedAt + this.readTimeoutMs - now,
      this.lastSentAt + this.pingIntervalMs - now,
    );
    this.arm(next, (lateBy) => this.schedule(lateBy));
  }

  /**
   * Runs `due` after `ms`, with how late the timer fired when that is more than a hiccup: a late
   * timer means the event loop was blocked (a long synchronous task) while the server's answers
   * waited unread in the socket, and deadlines add that time rather than blame the server. Timers
   * run before I/O in a turn of the event loop, so `due` runs after what the socket holds is read.
   */
  private arm(ms: number, due: (late: number) => void): void {
    clearTimeout(this.timer);
    const wait = Math.max(ms, 1);
    const dueAt = Date.now() + wait;
    this.timer = setTimeout(() => {
      const late = Date.now() - dueAt;
      setImmediate(() => this.guard(() => due(late > STALL_MS ? late : 0)));
    }, wait);
  }
}

function connectionFailure(server: ServerAddress, cause: unknown): ZkError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ZkError(
    'CONNECTION_LOSS',
    `ZooKeeper connection to ${server.host}:${server.port} ended: ${reason}`,
    {
      cause,
    },
  );
}
