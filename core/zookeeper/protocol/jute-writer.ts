import type { ZkAcl } from '../zk-acl.js';

const INITIAL_BYTES = 256;

/**
 * Serializes jute records (ZooKeeper's wire format: big-endian ints and longs, length-prefixed
 * buffers and UTF-8 strings, -1 for null) into one growing buffer. `frame()` returns the bytes with
 * the 4-byte length prefix every packet carries.
 */
export class JuteWriter {
  private bytes: Buffer;
  private length = 4;

  constructor(expectedBytes = INITIAL_BYTES) {
    this.bytes = Buffer.allocUnsafe(Math.max(expectedBytes + 4, 16));
  }

  int(value: number): this {
    this.reserve(4);
    this.bytes.writeInt32BE(value, this.length);
    this.length += 4;
    return this;
  }

  long(value: bigint): this {
    this.reserve(8);
    this.bytes.writeBigInt64BE(BigInt.asIntN(64, value), this.length);
    this.length += 8;
    return this;
  }

  boolean(value: boolean): this {
    this.reserve(1);
    this.bytes[this.length] = value ? 1 : 0;
    this.length += 1;
    return this;
  }

  /** A length-prefixed byte array; null is written as length -1. */
  buffer(value: Uint8Array | null): this {
    if (value === null) return this.int(-1);
    this.int(value.byteLength);
    this.reserve(value.byteLength);
    this.bytes.set(value, this.length);
    this.length += value.byteLength;
    return this;
  }

  /** A length-prefixed UTF-8 string; null is written as length -1. */
  string(value: string | null): this {
    if (value === null) return this.int(-1);
    const byteLength = Buffer.byteLength(value);
    this.int(byteLength);
    this.reserve(byteLength);
    this.bytes.write(value, this.length, byteLength, 'utf8');
    this.length += byteLength;
    return this;
  }

  strings(values: readonly string[]): this {
    this.int(values.length);
    for (const value of values) this.string(value);
    return this;
  }

  acl(entries: readonly ZkAcl[]): this {
    this.int(entries.length);
    for (const entry of entries) this.int(entry.perms).string(entry.scheme).string(entry.id);
    return this;
  }

  /** The bytes written so far, after a 4-byte big-endian count of them. */
  frame(): Buffer {
    this.bytes.writeInt32BE(this.length - 4, 0);
    return this.bytes.subarray(0, this.length);
  }

  private reserve(more: number): void {
    const needed = this.length + more;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}
