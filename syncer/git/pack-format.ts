import { inflate, inflateSync } from 'node:zlib';

/**
 * The pieces of git's pack format that reading an object and indexing a pack share
 * (gitformat-pack(5)): an entry's header, its data inflated, and a delta applied to its base.
 */

export type ObjectType = 'commit' | 'tree' | 'blob' | 'tag';

/** A pack or an object whose bytes do not follow git's format: damaged, or made by hand. */
export class PackFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackFormatError';
  }
}

/** What an entry's header says: a whole object, or a delta and where its base is. */
export type EntryHeader = { readonly length: number; readonly size: number } & (
  | { readonly kind: 'object'; readonly type: ObjectType }
  | { readonly kind: 'ofs-delta'; readonly baseDistance: number }
  | { readonly kind: 'ref-delta'; readonly baseId: string }
);

const TYPES: readonly (ObjectType | undefined)[] = [undefined, 'commit', 'tree', 'blob', 'tag'];
const OFS_DELTA = 6;
const REF_DELTA = 7;

/**
 * The header of the entry `bytes` starts with: its type, the size of its data once inflated (for a
 * delta, of the delta itself) and, for a delta, its base. `length` is where the deflated data starts.
 */
export function readEntryHeader(bytes: Uint8Array): EntryHeader {
  let at = 0;
  const next = (): number => {
    if (at >= bytes.length) throw new PackFormatError('a pack entry ends inside its header');
    return bytes[at++] as number;
  };
  let byte = next();
  const code = (byte >> 4) & 7;
  let size = byte & 15;
  // Multiplied, not shifted: sizes may pass 2^31.
  for (let scale = 16; byte & 0x80; scale *= 128) {
    byte = next();
    size += (byte & 0x7f) * scale;
  }
  if (code === OFS_DELTA) {
    // git's offset encoding adds one at each further byte, so that no two encodings mean one distance.
    byte = next();
    let distance = byte & 0x7f;
    while (byte & 0x80) {
      byte = next();
      distance = (distance + 1) * 128 + (byte & 0x7f);
    }
    if (distance === 0) throw new PackFormatError('a pack entry is a delta against itself');
    return { kind: 'ofs-delta', baseDistance: distance, size, length: at };
  }
  if (code === REF_DELTA) {
    if (at + 20 > bytes.length) throw new PackFormatError('a pack entry ends inside its base id');
    const baseId = Buffer.from(bytes.buffer, bytes.byteOffset + at, 20).toString('hex');
    return { kind: 'ref-delta', baseId, size, length: at + 20 };
  }
  const type = TYPES[code];
  if (type === undefined) throw new PackFormatError(`a pack entry has the unknown type ${code}`);
  return { kind: 'object', type, size, length: at };
}

/**
 * The data of an entry whose header said `size`, inflated from the start of `deflated` (which may
 * run past the entry: inflating stops at the end of its stream), and how many bytes of `deflated`
 * it took. Never more than `size` bytes are made: a damaged or hostile entry of a few bytes cannot
 * inflate to gigabytes. `entry` names it in errors.
 */
export function inflateEntry(deflated: Uint8Array, size: number, entry: string): InflatedEntry {
  let inflated: ZlibResult;
  try {
    inflated = inflateSync(deflated, inflateOptions(size)) as unknown as ZlibResult;
  } catch (error) {
    throw inflateFailure(error, size, entry);
  }
  return checkedSize(inflated, size, entry);
}

/**
 * `inflateEntry` on one of libuv's threads, for an entry large enough that inflating it would hold
 * the event loop (a megabyte takes milliseconds): the same bound, the same errors.
 */
export function inflateEntryAsync(deflated: Uint8Array, size: number, entry: string): Promise<InflatedEntry> {
  return new Promise((resolve, reject) => {
    inflate(deflated, inflateOptions(size), (error, result) => {
      if (error) reject(inflateFailure(error, size, entry));
      else {
        try {
          resolve(checkedSize(result as unknown as ZlibResult, size, entry));
        } catch (failure) {
          reject(failure);
        }
      }
    });
  });
}

export interface InflatedEntry {
  readonly data: Buffer;
  /** How many bytes of the deflated input the entry's stream took. */
  readonly consumed: number;
}

/** What zlib hands back with `info: true`. */
type ZlibResult = { buffer: Buffer; engine: { bytesWritten: number } };

function inflateOptions(size: number) {
  // Output goes into buffers of `chunkSize` bytes, and the data is a view of the first: at zlib's
  // default (16 KiB), each config file read kept 16 KiB alive, and the objects the reader keeps
  // (ResolvedEntries) as many. One byte more than the size: a longer output is refused in one pass.
  return { info: true, maxOutputLength: Math.max(1, size), chunkSize: Math.max(64, size + 1) } as const;
}

function inflateFailure(error: unknown, size: number, entry: string): PackFormatError {
  if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
    return new PackFormatError(`${entry} inflates to more than the ${size} bytes it declares`);
  }
  return new PackFormatError(`${entry} cannot be inflated (${(error as Error).message})`);
}

function checkedSize(inflated: ZlibResult, size: number, entry: string): InflatedEntry {
  if (inflated.buffer.length !== size) {
    throw new PackFormatError(
      `${entry} inflates to ${inflated.buffer.length} bytes, not the ${size} it declares`,
    );
  }
  return { data: inflated.buffer, consumed: inflated.engine.bytesWritten };
}

/**
 * The most bytes zlib's deflate makes of `size` bytes (its `compressBound`): git deflates each
 * entry alone, so an entry's data is never longer, and inflating stops at its end.
 */
export function compressBound(size: number): number {
  return size + Math.floor(size / 4096) + Math.floor(size / 16384) + Math.floor(size / 33554432) + 13;
}

/** The object `delta` makes of `base`: copies from the base and inserted bytes (gitformat-pack(5)). */
export function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    let byte: number;
    let scale = 1;
    do {
      if (at >= delta.length) throw new PackFormatError('a delta ends inside its header');
      byte = delta[at++] as number;
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return value;
  };
  if (varint() !== base.length) throw new PackFormatError('a delta does not fit its base (the sizes differ)');
  const result = Buffer.allocUnsafe(varint());
  let written = 0;
  while (at < delta.length) {
    const op = delta[at++] as number;
    if (op & 0x80) {
      // Copy: which of 4 offset bytes and 3 size bytes follow is told by the op's low 7 bits.
      let offset = 0;
      let size = 0;
      for (let bit = 0; bit < 4; bit++)
        if (op & (1 << bit)) offset += (delta[at++] as number) * 2 ** (8 * bit);
      for (let bit = 0; bit < 3; bit++)
        if (op & (16 << bit)) size += (delta[at++] as number) * 2 ** (8 * bit);
      if (size === 0) size = 0x10000;
      if (at > delta.length || offset + size > base.length || written + size > result.length) {
        throw new PackFormatError('a delta copies from outside its base');
      }
      written += base.copy(result, written, offset, offset + size);
    } else if (op !== 0) {
      if (at + op > delta.length || written + op > result.length) {
        throw new PackFormatError('a delta inserts more than it holds');
      }
      written += delta.copy(result, written, at, at + op);
      at += op;
    } else {
      throw new PackFormatError('a delta holds the reserved instruction 0');
    }
  }
  if (written !== result.length) throw new PackFormatError('a delta makes fewer bytes than it says');
  return result;
}
