import type { ZkAcl } from '../zk-acl.js';
import { ZkError } from '../zk-error.js';
import type { ZkStat } from '../zk-stat.js';

const EMPTY = Buffer.alloc(0);

/**
 * Reads jute records from one packet. Every read checks the bounds: a truncated or garbled packet
 * raises a ZkError `PROTOCOL_ERROR` (never a RangeError), which the connection turns into a
 * reconnect.
 */
export class JuteReader {
  private offset: number;
  private readonly bytes: Buffer;

  constructor(bytes: Buffer, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  int(): number {
    this.need(4, 'an int');
    const value = this.bytes.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  long(): bigint {
    this.need(8, 'a long');
    const value = this.bytes.readBigInt64BE(this.offset);
    this.offset += 8;
    return value;
  }

  boolean(): boolean {
    this.need(1, 'a boolean');
    const value = this.bytes[this.offset];
    this.offset += 1;
    return value !== 0;
  }

  /** A copy of a length-prefixed byte array (null reads as empty): it must not pin the socket's buffer. */
  buffer(): Buffer {
    const length = this.length('a buffer');
    if (length <= 0) return EMPTY;
    const value = Buffer.from(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return value;
  }

  /** A length-prefixed UTF-8 string (null reads as empty). */
  string(): string {
    const length = this.length('a string');
    if (length <= 0) return '';
    const value = this.bytes.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  strings(): string[] {
    // Each element takes at least its 4-byte length: a count beyond that is garbage, not a big vector.
    const count = this.count(4, 'a vector of strings');
    const values = new Array<string>(count);
    for (let i = 0; i < count; i++) values[i] = this.string();
    return values;
  }

  stat(): ZkStat {
    const czxid = this.long();
    const mzxid = this.long();
    const ctime = Number(this.long());
    const mtime = Number(this.long());
    const version = this.int();
    const cversion = this.int();
    const aversion = this.int();
    const ephemeralOwner = this.long();
    const dataLength = this.int();
    const numChildren = this.int();
    const pzxid = this.long();
    return {
      czxid,
      mzxid,
      pzxid,
      ctime,
      mtime,
      version,
      cversion,
      aversion,
      dataLength,
      numChildren,
      ephemeralOwner,
    };
  }

  acl(): ZkAcl[] {
    const count = this.count(12, 'an ACL');
    const entries: ZkAcl[] = [];
    for (let i = 0; i < count; i++)
      entries.push({ perms: this.int(), scheme: this.string(), id: this.string() });
    return entries;
  }

  /** Fails unless every byte of the packet was read. */
  end(what: string): void {
    if (this.remaining !== 0) throw protocolError(`${this.remaining} unexpected bytes after ${what}`);
  }

  private length(what: string): number {
    const length = this.int();
    if (length < -1) throw protocolError(`negative length ${length} of ${what}`);
    if (length > 0) this.need(length, what);
    return length;
  }

  private count(minElementBytes: number, what: string): number {
    const count = this.int();
    if (count < -1) throw protocolError(`negative length ${count} of ${what}`);
    if (count > 0 && count * minElementBytes > this.remaining)
      throw protocolError(`${what} of ${count} elements in ${this.remaining} bytes`);
    return Math.max(count, 0);
  }

  private need(bytes: number, what: string): void {
    if (this.offset + bytes > this.bytes.length)
      throw protocolError(
        `packet truncated: ${what} needs ${bytes} bytes at offset ${this.offset} of ${this.bytes.length}`,
      );
  }
}

export function protocolError(detail: string): ZkError {
  return new ZkError('PROTOCOL_ERROR', `ZooKeeper sent a malformed packet: ${detail}`);
}
