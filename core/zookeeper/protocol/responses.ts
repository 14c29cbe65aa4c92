import type { ZkAcl } from '../zk-acl.js';
import type { ZkStat } from '../zk-stat.js';
import { type JuteReader, protocolError } from './jute-reader.js';
import { OpCode } from './op-codes.js';

export interface ConnectResponse {
  /** The negotiated session timeout; 0 or less when the server no longer knows the session. */
  readonly timeoutMs: number;
  readonly sessionId: bigint;
  readonly password: Buffer;
}

export interface ReplyHeader {
  readonly xid: number;
  readonly zxid: bigint;
  readonly err: number;
}

export interface WatcherEvent {
  readonly type: number;
  readonly state: number;
  readonly path: string;
}

/** The result of one operation of a multi, as the server reports it. */
export type WireOpResult =
  | { readonly type: 'create'; readonly path: string; readonly stat: ZkStat | undefined }
  | { readonly type: 'set'; readonly stat: ZkStat }
  | { readonly type: 'remove' }
  | { readonly type: 'check' }
  | { readonly type: 'error'; readonly err: number };

/** Readers of the reply bodies, field by field as zookeeper.jute declares them. */
export const readResponse = {
  /** ConnectResponse; `readOnly` is absent from servers before 3.4 and ignored here. */
  connect(r: JuteReader): ConnectResponse {
    r.int(); // protocolVersion
    const timeoutMs = r.int();
    const sessionId = r.long();
    const password = r.buffer();
    if (r.remaining > 0) r.boolean();
    r.end('a connect response');
    return { timeoutMs, sessionId, password };
  },
  header(r: JuteReader): ReplyHeader {
    return { xid: r.int(), zxid: r.long(), err: r.int() };
  },
  watcherEvent(r: JuteReader): WatcherEvent {
    return { type: r.int(), state: r.int(), path: r.string() };
  },
  data(r: JuteReader): { data: Buffer; stat: ZkStat } {
    return { data: r.buffer(), stat: r.stat() };
  },
  /** ExistsResponse, SetDataResponse, SetACLResponse. */
  stat(r: JuteReader): ZkStat {
    return r.stat();
  },
  children(r: JuteReader): { children: string[]; stat: ZkStat } {
    return { children: r.strings(), stat: r.stat() };
  },
  create2(r: JuteReader): { path: string; stat: ZkStat } {
    return { path: r.string(), stat: r.stat() };
  },
  acl(r: JuteReader): { acl: ZkAcl[]; stat: ZkStat } {
    return { acl: r.acl(), stat: r.stat() };
  },
  path(r: JuteReader): string {
    return r.string();
  },
  multi(r: JuteReader): WireOpResult[] {
    const results: WireOpResult[] = [];
    for (;;) {
      const type = r.int();
      const done = r.boolean();
      r.int(); // err, repeated in the ErrorResponse body
      if (done) return results;
      switch (type) {
        case OpCode.create:
          results.push({ type: 'create', path: r.string(), stat: undefined });
          break;
        case OpCode.create2:
          results.push({ type: 'create', path: r.string(), stat: r.stat() });
          break;
        case OpCode.setData:
          results.push({ type: 'set', stat: r.stat() });
          break;
        case OpCode.delete:
          results.push({ type: 'remove' });
          break;
        case OpCode.check:
          results.push({ type: 'check' });
          break;
        case OpCode.error:
          results.push({ type: 'error', err: r.int() });
          break;
        default:
          throw protocolError(`unknown operation type ${type} in a multi response`);
      }
    }
  },
};
