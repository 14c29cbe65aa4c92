import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  applyDelta,
  type EntryHeader,
  inflateEntry,
  type ObjectType,
  PackFormatError,
  readEntryHeader,
} from './pack-format.js';

interface Entry {
  readonly offset: number;
  readonly header: EntryHeader;
  /** The entry's data inflated: the object itself, or a delta. */
  readonly data: Buffer;
  readonly crc: number;
  type?: ObjectType;
  /** The object once its delta chain is applied. */
  content?: Buffer;
  oid?: string;
}

/** The most bytes an entry's header takes (see object-reader.ts). */
const HEADER_BYTES = 32;
const LARGE_OFFSET = 2 ** 31;

/**
 * The index (version 2) of a whole pack held in memory, the bytes `git index-pack` would write for
 * it: each object's id (a delta's once applied to its base), the CRC-32 of its entry and its offset.
 * For a commit's pack of a few objects: each is inflated by zlib and hashed at once, with nothing
 * handed to other threads (isomorphic-git's indexer inflated in JavaScript and hashed each object
 * through WebCrypto, a trip through libuv's threads apiece). A pack whose deltas lean on objects
 * outside it (a thin pack), or whose bytes do not follow the format, is a PackFormatError; its
 * checksum is the caller's to check.
 */
export function indexPack(pack: Buffer): Buffer {
  if (pack.length < 32 || pack.toString('latin1', 0, 4) !== 'PACK') {
    throw new PackFormatError('the data is no pack (it does not start with PACK)');
  }
  const version = pack.readUInt32BE(4);
  if (version !== 2 && version !== 3)
    throw new PackFormatError(`the pack has the unknown version ${version}`);
  const count = pack.readUInt32BE(8);
  const end = pack.length - 20;
  const entries: Entry[] = [];
  const byOffset = new Map<number, Entry>();
  let at = 12;
  for (let n = 0; n < count; n++) {
    if (at >= end) throw new PackFormatError(`the pack ends after ${n} of the ${count} objects it announces`);
    const header = readEntryHeader(pack.subarray(at, Math.min(at + HEADER_BYTES, end)));
    const start = at + header.length;
    const { data, consumed } = inflateEntry(
      pack.subarray(start, end),
      header.size,
      `the pack's entry at ${at}`,
    );
    const next = start + consumed;
    const entry: Entry = { offset: at, header, data, crc: crc32(pack.subarray(at, next)) };
    entries.push(entry);
    byOffset.set(at, entry);
    at = next;
  }
  if (at !== end) throw new PackFormatError(`the pack holds ${end - at} bytes after its ${count} objects`);
  resolveObjects(entries, byOffset);
  return writeIndex(entries, pack.subarray(end));
}

/**
 * Gives every entry its object and id. A base by offset comes before its delta; a base by id may
 * come anywhere in the pack, so the entries left waiting for one are tried again until none is.
 */
function resolveObjects(entries: readonly Entry[], byOffset: ReadonlyMap<number, Entry>): void {
  const byId = new Map<string, Entry>();
  let pending = entries;
  while (pending.length > 0) {
    const waiting: Entry[] = [];
    for (const entry of pending) {
      const { header } = entry;
      if (header.kind === 'object') {
        entry.type = header.type;
        entry.content = entry.data;
      } else {
        const base =
          header.kind === 'ofs-delta'
            ? byOffset.get(entry.offset - header.baseDistance)
            : byId.get(header.baseId);
        if (!base && header.kind === 'ofs-delta') {
          throw new PackFormatError(`the pack's delta at ${entry.offset} names a base where no entry starts`);
        }
        if (base?.content === undefined || base.type === undefined) {
          waiting.push(entry);
          continue;
        }
        entry.type = base.type;
        entry.content = applyDelta(base.content, entry.data);
      }
      const content = entry.content;
      entry.oid = createHash('sha1')
        .update(`${entry.type} ${content.length}\0`)
        .update(content)
        .digest('hex');
      byId.set(entry.oid, entry);
    }
    if (waiting.length === pending.length) {
      throw new PackFormatError(
        `the pack holds ${waiting.length} deltas whose bases are not in it (a thin pack, which is not asked for)`,
      );
    }
    pending = waiting;
  }
}

/** gitformat-pack(5)'s index, version 2: fan-out, ids, CRC-32s, offsets, large offsets, checksums. */
function writeIndex(entries: readonly Entry[], packChecksum: Buffer): Buffer {
  const sorted = [...entries].sort((a, b) => ((a.oid as string) < (b.oid as string) ? -1 : 1));
  const count = sorted.length;
  const large = sorted.filter((entry) => entry.offset >= LARGE_OFFSET).length;
  const ids = 8 + 256 * 4;
  const crcs = ids + count * 20;
  const offsets = crcs + count * 4;
  const largeOffsets = offsets + count * 4;
  const index = Buffer.alloc(largeOffsets + large * 8 + 40);
  index.writeUInt32BE(0xff744f63, 0);
  index.writeUInt32BE(2, 4);
  let nextLarge = 0;
  // The fan-out counts, for each first byte, the objects whose first byte is at most that.
  const firstBytes = new Uint32Array(256);
  sorted.forEach((entry, n) => {
    const id = Buffer.from(entry.oid as string, 'hex');
    const first = id[0] as number;
    firstBytes[first] = (firstBytes[first] as number) + 1;
    id.copy(index, ids + n * 20);
    index.writeUInt32BE(entry.crc, crcs + n * 4);
    if (entry.offset < LARGE_OFFSET) {
      index.writeUInt32BE(entry.offset, offsets + n * 4);
    } else {
      index.writeUInt32BE((0x80000000 | nextLarge) >>> 0, offsets + n * 4);
      index.writeBigUInt64BE(BigInt(entry.offset), largeOffsets + nextLarge * 8);
      nextLarge++;
    }
  });
  let atMost = 0;
  firstBytes.forEach((objects, byte) => {
    atMost += objects;
    index.writeUInt32BE(atMost, 8 + byte * 4);
  });
  const checksums = largeOffsets + large * 8;
  packChecksum.copy(index, checksums);
  createHash('sha1')
    .update(index.subarray(0, checksums + 20))
    .digest()
    .copy(index, checksums + 20);
  return index;
}
