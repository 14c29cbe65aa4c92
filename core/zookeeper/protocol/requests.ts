import type { ZkAcl } from '../zk-acl.js';
import { JuteWriter } from './jute-writer.js';
import { OpCode } from './op-codes.js';

/** One operation of a multi request, with server paths. */
export type WireOp =
  | {
      readonly type: 'create';
      readonly path: string;
      readonly data: Uint8Array;
      readonly acl: readonly ZkAcl[];
      readonly flags: number;
    }
  | { readonly type: 'set'; readonly path: string; readonly data: Uint8Array; readonly version: number }
  | { readonly type: 'remove'; readonly path: string; readonly version: number }
  | { readonly type: 'check'; readonly path: string; readonly version: number };

export interface ConnectRequest {
  readonly lastZxidSeen: bigint;
  readonly timeoutMs: number;
  readonly sessionId: bigint;
  readonly password: Uint8Array;
}

/** The first packet on a connection: it has no request header. */
export function connectFrame(request: ConnectRequest): Buffer {
  return new JuteWriter(64)
    .int(0)
    .long(request.lastZxidSeen)
    .int(request.timeoutMs)
    .long(request.sessionId)
    .buffer(request.password)
    .boolean(false)
    .frame();
}

/** A request packet: header (xid, type), then the body `write` adds. */
export function requestFrame(
  xid: number,
  opCode: number,
  write?: (writer: JuteWriter) => void,
  sizeHint = 64,
): Buffer {
  const writer = new JuteWriter(sizeHint).int(xid).int(opCode);
  write?.(writer);
  return writer.frame();
}

/** Bodies of the requests, field by field as zookeeper.jute declares them. */
export const writeRequest = {
  /** GetDataRequest, ExistsRequest, GetChildren2Request. */
  pathWatch: (path: string, watch: boolean) => (w: JuteWriter) => w.string(path).boolean(watch),
  /** SyncRequest, GetACLRequest. */
  path: (path: string) => (w: JuteWriter) => w.string(path),
  create: (path: string, data: Uint8Array, acl: readonly ZkAcl[], flags: number) => (w: JuteWriter) =>
    w.string(path).buffer(data).acl(acl).int(flags),
  setData: (path: string, data: Uint8Array, version: number) => (w: JuteWriter) =>
    w.string(path).buffer(data).int(version),
  /** DeleteRequest, CheckVersionRequest. */
  pathVersion: (path: string, version: number) => (w: JuteWriter) => w.string(path).int(version),
  setAcl: (path: string, acl: readonly ZkAcl[], version: number) => (w: JuteWriter) =>
    w.string(path).acl(acl).int(version),
  auth: (scheme: string, credentials: Uint8Array) => (w: JuteWriter) =>
    w.int(0).string(scheme).buffer(credentials),
  addWatch: (path: string, mode: number) => (w: JuteWriter) => w.string(path).int(mode),
  removeWatches: (path: string, watcherType: number) => (w: JuteWriter) => w.string(path).int(watcherType),
  /** SetWatches, or SetWatches2 when persistent watches are among them (servers before 3.6 know only the first). */
  setWatches: (relativeZxid: bigint, watches: WatchSet) => (w: JuteWriter) => {
    w.long(relativeZxid).strings(watches.data).strings(watches.exist).strings(watches.child);
    if (watches.persistent.length > 0 || watches.persistentRecursive.length > 0)
      w.strings(watches.persistent).strings(watches.persistentRecursive);
  },
  /** A multiRead's MultiOperationRecord of getData operations, none watched. */
  multiRead: (paths: readonly string[]) => (w: JuteWriter) => {
    for (const path of paths) w.int(OpCode.getData).boolean(false).int(-1).string(path).boolean(false);
    w.int(-1).boolean(true).int(-1);
  },
  /** MultiOperationRecord: a MultiHeader (type, done, err) before each operation, and one that ends them. */
  multi: (ops: readonly WireOp[]) => (w: JuteWriter) => {
    for (const op of ops) {
      switch (op.type) {
        case 'create':
          w.int(OpCode.create2).boolean(false).int(-1);
          w.string(op.path).buffer(op.data).acl(op.acl).int(op.flags);
          break;
        case 'set':
          w.int(OpCode.setData).boolean(false).int(-1);
          w.string(op.path).buffer(op.data).int(op.version);
          break;
        case 'remove':
          w.int(OpCode.delete).boolean(false).int(-1);
          w.string(op.path).int(op.version);
          break;
        case 'check':
          w.int(OpCode.check).boolean(false).int(-1);
          w.string(op.path).int(op.version);
          break;
      }
    }
    w.int(-1).boolean(true).int(-1);
  },
};

/** Paths of watches by kind, as SetWatches and SetWatches2 carry them. */
export interface WatchSet {
  readonly data: readonly string[];
  readonly exist: readonly string[];
  readonly child: readonly string[];
  readonly persistent: readonly string[];
  readonly persistentRecursive: readonly string[];
}

export function setWatchesOpCode(watches: WatchSet): number {
  return watches.persistent.length > 0 || watches.persistentRecursive.length > 0
    ? OpCode.setWatches2
    : OpCode.setWatches;
}

/** Bytes a multi request needs, to size its buffer once. */
export function multiSizeHint(ops: readonly WireOp[]): number {
  let size = 32;
  for (const op of ops) size += 48 + op.path.length * 3 + ('data' in op ? op.data.byteLength : 0);
  return size;
}

/** The Java client's limit per SetWatches packet (ClientCnxn.SET_WATCHES_MAX_LENGTH): one packet of all watches breaks past 1 MB (ZOOKEEPER-706). */
export const SET_WATCHES_MAX_BYTES = 128 * 1024;

/** Splits watches into sets whose paths take at most about `maxBytes` each, in order. */
export function splitWatchSet(watches: WatchSet, maxBytes = SET_WATCHES_MAX_BYTES): WatchSet[] {
  const kinds = ['data', 'exist', 'child', 'persistent', 'persistentRecursive'] as const;
  const batches: WatchSet[] = [];
  let batch = emptyBatch();
  let bytes = 0;
  for (const kind of kinds) {
    for (const path of watches[kind]) {
      const size = Buffer.byteLength(path) + 4;
      if (bytes > 0 && bytes + size > maxBytes) {
        batches.push(batch);
        batch = emptyBatch();
        bytes = 0;
      }
      batch[kind].push(path);
      bytes += size;
    }
  }
  if (bytes > 0) batches.push(batch);
  return batches;
}

function emptyBatch(): { [K in keyof WatchSet]: string[] } {
  return { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };
}
