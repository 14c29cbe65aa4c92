import { closeSync, openSync, read, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { inflate, inflateSync } from 'node:zlib';
import type { ObjectStore } from './object-store.js';
import {
  applyDelta,
  compressBound,
  type EntryHeader,
  inflateEntry,
  inflateEntryAsync,
  type ObjectType,
  PackFormatError,
  readEntryHeader,
} from './pack-format.js';

const readAsync = promisify(read);
const inflateAsync = promisify(inflate);

/** An object as git stores it: its type and its content (without git's `type size\0` header). */
export interface GitObject {
  readonly type: ObjectType;
  readonly bytes: Buffer;
}

/**
 * The store lacks the object, or holds it as another type than the one asked for. Its `code` is
 * isomorphic-git's (`NotFoundError`, `ObjectTypeError`), which callers already tell apart.
 */
export class ObjectReadError extends Error {
  readonly code: 'NotFoundError' | 'ObjectTypeError';

  constructor(code: 'NotFoundError' | 'ObjectTypeError', message: string) {
    super(message);
    this.name = 'ObjectReadError';
    this.code = code;
  }
}

/**
 * Reads one object of `store` by its id: a loose object first, then in the packs. What a diff reads
 * (a commit, the trees along the changed paths, the changed files) is a few objects of a pack
 * that may hold the whole repository, so only their own bytes are read from it (positional reads of
 * a page-cached file, each a few microseconds), and inflated by zlib itself. isomorphic-git reads a
 * pack whole into memory on its first object (tens of megabytes for 100,000 files, held until its
 * cache is dropped), parses every id of its index into a map, and inflates in JavaScript.
 *
 * The store's file system answers the loose lookups and the pack folder's listing (from memory in a
 * fetched clone, see store-files.ts); what is read of an index is kept with the store's cache, which
 * a repack replaces, and so are the objects resolved from the packs' entries (ResolvedEntries). A
 * pack is opened for one read and closed after it, so no descriptor outlives a read, and a pack a
 * repack removed is never read again once the listing no longer names it.
 */
export async function readObject(store: ObjectStore, oid: string, expected?: ObjectType): Promise<GitObject> {
  const object = await readFromStore(store, oid).catch((error: unknown) => {
    // A pack the listing named is gone: a `git gc` of a local repository replaced it between the
    // listing and the read. The next listing names what replaced it; a second miss is an error.
    if (!(error instanceof PackGoneError)) throw error;
    store.packsChanged?.();
    return readFromStore(store, oid);
  });
  if (!object) throw new ObjectReadError('NotFoundError', `object ${oid} is not in ${store.display}`);
  if (expected !== undefined && object.type !== expected) {
    throw new ObjectReadError('ObjectTypeError', `object ${oid} is a ${object.type}, not a ${expected}`);
  }
  return object;
}

async function readFromStore(store: ObjectStore, oid: string): Promise<GitObject | undefined> {
  return (await readLoose(store, oid)) ?? (await readPacked(store, oid, 0));
}

/** A pack that a listing named could not be opened: it was removed since (a repack, a gc). */
class PackGoneError extends Error {}

/** Whether the store holds the object `oid`: a loose file, or an index that lists it (nothing is inflated). */
export async function hasObject(store: ObjectStore, oid: string): Promise<boolean> {
  if (!OBJECT_ID.test(oid)) return false;
  if ((await readLooseFile(store, oid)) !== undefined) return true;
  const id = Buffer.from(oid, 'hex');
  for (const index of await packIndexes(store)) if (offsetOf(index, id) !== undefined) return true;
  return false;
}

const OBJECT_ID = /^[0-9a-f]{40}$/;
const LOOSE_TYPES: ReadonlySet<string> = new Set(['commit', 'tree', 'blob', 'tag']);

/** The deflated file of the loose object `oid`; undefined when there is none. */
async function readLooseFile(store: ObjectStore, oid: string): Promise<Buffer | undefined> {
  if (!OBJECT_ID.test(oid))
    throw new ObjectReadError('NotFoundError', `${JSON.stringify(oid)} is no object id`);
  try {
    return await store.fs.promises.readFile(join(store.gitdir, 'objects', oid.slice(0, 2), oid.slice(2)));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function readLoose(store: ObjectStore, oid: string): Promise<GitObject | undefined> {
  const deflated = await readLooseFile(store, oid);
  if (deflated === undefined) return undefined;
  // Deflated, a large file is still large (text deflates to a fifth or so): inflated off the loop.
  const raw = deflated.length > LARGE_ENTRY_BYTES / 8 ? await inflateAsync(deflated) : inflateSync(deflated);
  const space = raw.indexOf(0x20);
  const nul = raw.indexOf(0, space);
  const type = raw.toString('latin1', 0, space);
  if (
    space < 0 ||
    nul < 0 ||
    !LOOSE_TYPES.has(type) ||
    Number(raw.toString('latin1', space + 1, nul)) !== raw.length - nul - 1
  ) {
    throw new PackFormatError(
      `the loose object ${oid} in ${store.display} is damaged (its header does not match)`,
    );
  }
  const bytes = raw.subarray(nul + 1);
  // zlib inflates into buffers of 16 KiB: a small object is copied out, not kept as a view of one.
  return {
    type: type as ObjectType,
    bytes: raw.buffer.byteLength > 2 * bytes.length ? Buffer.from(bytes) : bytes,
  };
}

/** A pack's index (version 2), held whole: 28 bytes an object, no map of its ids. */
interface PackIndex {
  readonly packPath: string;
  readonly bytes: Buffer;
  readonly count: number;
}

/** What was read of the packs' indexes, kept with the store's cache object (a repack replaces it). */
interface KnownIndexes {
  /** Each index read, by path. */
  readonly byPath: Map<string, Promise<PackIndex>>;
  /** The pack folder's last listing, and its indexes: most reads find the same listing. */
  listed?: { readonly names: readonly string[]; readonly indexes: Promise<PackIndex[]> };
  /** Objects resolved from the entries of the packs listed: see ResolvedEntries. */
  readonly resolved: ResolvedEntries;
}

const indexesByCache = new WeakMap<object, KnownIndexes>();

function knownIndexes(store: ObjectStore): KnownIndexes {
  let known = indexesByCache.get(store.cache);
  if (!known) {
    known = { byPath: new Map(), resolved: new ResolvedEntries(RESOLVED_ENTRIES_BYTES) };
    indexesByCache.set(store.cache, known);
  }
  return known;
}

/** What the resolved objects of a store's packs may hold: git's own default is 96 MiB. */
const RESOLVED_ENTRIES_BYTES = 16 * 1024 * 1024;
/** What keeping one more object costs beyond its bytes (its key, its entry in the map). */
const RESOLVED_ENTRY_OVERHEAD_BYTES = 128;

/**
 * Objects resolved from pack entries, by pack and offset, the least recently used let go first
 * once they hold more than `limitBytes`, as git's delta base cache (`core.deltaBaseCacheLimit`).
 * git chains similar files up to 50 deltas deep, the files of a generated or templated repository
 * most of all: without it, reading every file resolved each one's chain from its start again, ten
 * reads and inflates a file on average. An object over a sixteenth of the limit is not kept: it
 * would push out hundreds of small ones.
 */
export class ResolvedEntries {
  readonly #objects = new Map<string, GitObject>();
  #bytes = 0;

  constructor(readonly limitBytes: number) {}

  /** How many bytes the objects kept hold, with their overhead. */
  get bytes(): number {
    return this.#bytes;
  }

  get(pack: string, offset: number): GitObject | undefined {
    const key = `${offset} ${pack}`;
    const object = this.#objects.get(key);
    if (object) {
      // Map keeps insertion order: moved to the end, it is the last to go.
      this.#objects.delete(key);
      this.#objects.set(key, object);
    }
    return object;
  }

  set(pack: string, offset: number, object: GitObject): void {
    const key = `${offset} ${pack}`;
    if (costOf(object) > this.limitBytes / 16 || this.#objects.has(key)) return;
    this.#objects.set(key, object);
    this.#bytes += costOf(object);
    for (const [oldest, dropped] of this.#objects) {
      if (this.#bytes <= this.limitBytes) break;
      this.#drop(oldest, dropped);
    }
  }

  /** Lets go of every object of `pack`: a repack removed it. */
  forgetPack(pack: string): void {
    const suffix = ` ${pack}`;
    for (const [key, object] of this.#objects) if (key.endsWith(suffix)) this.#drop(key, object);
  }

  #drop(key: string, object: GitObject): void {
    this.#objects.delete(key);
    this.#bytes -= costOf(object);
  }
}

/** What keeping `object` costs: its bytes, its key and its entry in the map. */
function costOf(object: GitObject): number {
  return object.bytes.length + RESOLVED_ENTRY_OVERHEAD_BYTES;
}

/**
 * Deltas one object may stack, bases named by id included: git makes chains of 50 at most by
 * default (`pack.depth`); a pack whose bases loop is refused rather than read for ever.
 */
const MAX_DELTA_CHAIN = 10_000;

async function readPacked(store: ObjectStore, oid: string, chained: number): Promise<GitObject | undefined> {
  const id = Buffer.from(oid, 'hex');
  const indexes = await packIndexes(store);
  const { resolved } = knownIndexes(store);
  for (const index of indexes) {
    const offset = offsetOf(index, id);
    if (offset === undefined) continue;
    const known = resolved.get(index.packPath, offset);
    if (known) return known;
    let fd: number;
    try {
      fd = openSync(index.packPath, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new PackGoneError(`${index.packPath} is gone from ${store.display}`, { cause: error });
    }
    try {
      return await readAt(store, fd, index, offset, chained, resolved);
    } finally {
      closeSync(fd);
    }
  }
  return undefined;
}

async function packIndexes(store: ObjectStore): Promise<PackIndex[]> {
  const folder = join(store.gitdir, 'objects', 'pack');
  let names: string[];
  try {
    names = await store.fs.promises.readdir(folder);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const known = knownIndexes(store);
  const { listed } = known;
  if (listed && listed.names.length === names.length && listed.names.every((name, n) => name === names[n])) {
    return listed.indexes;
  }
  const { byPath } = known;
  // The indexes of packs no longer listed (a repack, a gc of a local repository) are let go.
  const listedNames = new Set(names);
  for (const path of byPath.keys()) {
    if (listedNames.has(basename(path))) continue;
    byPath.delete(path);
    known.resolved.forgetPack(packPathOf(path));
  }
  const indexes: Promise<PackIndex>[] = [];
  for (const name of names) {
    if (!name.startsWith('pack-') || !name.endsWith('.idx')) continue;
    const path = join(folder, name);
    let index = byPath.get(path);
    if (!index) {
      const loading = loadIndex(store, path);
      byPath.set(path, loading);
      // A failed read is not kept: the next read tries the disk again.
      loading.catch(() => byPath.delete(path));
      index = loading;
    }
    indexes.push(index);
  }
  const all = Promise.all(indexes);
  const state = known;
  state.listed = { names, indexes: all };
  all.catch(() => {
    if (state.listed?.indexes === all) state.listed = undefined;
  });
  return all;
}

const INDEX_MAGIC = 0xff744f63;
const FAN_OUT = 8;
const IDS = FAN_OUT + 256 * 4;

/** The pack an index file describes. */
function packPathOf(indexPath: string): string {
  return `${indexPath.slice(0, -'.idx'.length)}.pack`;
}

async function loadIndex(store: ObjectStore, path: string): Promise<PackIndex> {
  const bytes = await store.fs.promises.readFile(path);
  const count = bytes.length >= IDS ? bytes.readUInt32BE(IDS - 4) : 0;
  if (
    bytes.length < IDS + count * 28 + 40 ||
    bytes.readUInt32BE(0) !== INDEX_MAGIC ||
    bytes.readUInt32BE(4) !== 2
  ) {
    throw new PackFormatError(`${path} in ${store.display} is no pack index of version 2`);
  }
  return { packPath: packPathOf(path), bytes, count };
}

/** Where `id` starts in the pack, by binary search between the fan-out's bounds; undefined if absent. */
function offsetOf({ bytes, count }: PackIndex, id: Buffer): number | undefined {
  const first = id[0] as number;
  let low = first === 0 ? 0 : bytes.readUInt32BE(FAN_OUT + (first - 1) * 4);
  let high = bytes.readUInt32BE(FAN_OUT + first * 4);
  while (low < high) {
    const middle = (low + high) >>> 1;
    const at = IDS + middle * 20;
    const order = id.compare(bytes, at, at + 20);
    if (order === 0) {
      const small = bytes.readUInt32BE(IDS + count * 24 + middle * 4);
      if ((small & 0x80000000) === 0) return small;
      // Packs over 2 GB keep larger offsets in a table of their own.
      return Number(bytes.readBigUInt64BE(IDS + count * 28 + (small & 0x7fffffff) * 8));
    }
    if (order < 0) high = middle;
    else low = middle + 1;
  }
  return undefined;
}

/**
 * Entries that declare more than this are read and inflated on libuv's threads: a config file is a
 * few kilobytes, read in microseconds, but a blob of tens of megabytes (a commit may hold one)
 * would hold the event loop for as many milliseconds as the syncer's ZooKeeper session can spare.
 */
export const LARGE_ENTRY_BYTES = 256 * 1024;

/** The inflated data of the entry whose deflated bytes start at `start` of the pack open as `fd`. */
async function readEntryData(fd: number, start: number, size: number, entry: string): Promise<Buffer> {
  const deflated = Buffer.allocUnsafe(compressBound(size));
  if (size <= LARGE_ENTRY_BYTES) {
    const read = readSync(fd, deflated, 0, deflated.length, start);
    return inflateEntry(deflated.subarray(0, read), size, entry).data;
  }
  const { bytesRead } = await readAsync(fd, deflated, 0, deflated.length, start);
  return (await inflateEntryAsync(deflated.subarray(0, bytesRead), size, entry)).data;
}

/** The object whose entry starts at `offset` of the pack open as `fd`, its delta chain resolved. */
async function readAt(
  store: ObjectStore,
  fd: number,
  index: PackIndex,
  offset: number,
  chained: number,
  resolved: ResolvedEntries,
): Promise<GitObject> {
  // A delta chain is read from its end back to an object whole or resolved before, then applied
  // forward; each object it makes on the way is kept, as it is the base of the next.
  const deltas: { readonly at: number; readonly data: Buffer }[] = [];
  let base: GitObject | undefined;
  for (let at = offset; base === undefined; ) {
    if (chained + deltas.length > MAX_DELTA_CHAIN) {
      throw new PackFormatError(`${index.packPath} is damaged: a chain of over ${MAX_DELTA_CHAIN} deltas`);
    }
    base = resolved.get(index.packPath, at);
    if (base) break;
    const { header, data } = await readEntry(fd, at, `${index.packPath}'s entry at ${at}`);
    if (header.kind === 'object') {
      base = { type: header.type, bytes: data };
      resolved.set(index.packPath, at, base);
    } else if (header.kind === 'ofs-delta') {
      deltas.push({ at, data });
      if (header.baseDistance > at)
        throw new PackFormatError(`${index.packPath} is damaged: a delta's base before the pack`);
      at -= header.baseDistance;
    } else {
      deltas.push({ at, data });
      // A base named by id may be anywhere in the store.
      base =
        (await readLoose(store, header.baseId)) ??
        (await readPacked(store, header.baseId, chained + deltas.length));
      if (!base)
        throw new PackFormatError(
          `${index.packPath} holds a delta whose base ${header.baseId} is not in the store`,
        );
    }
  }
  let object = base;
  for (let next = deltas.pop(); next; next = deltas.pop()) {
    object = { type: object.type, bytes: applyDelta(object.bytes, next.data) };
    resolved.set(index.packPath, next.at, object);
  }
  return object;
}

/**
 * Bytes read at an entry's start: its header and, for nearly every entry of a config repository
 * (a file of a few kilobytes, a delta), all of its deflated data, in one read instead of two.
 */
const ENTRY_WINDOW_BYTES = 8192;
/** Reused by every read: an entry's data is inflated out of it before anything else may read. */
const entryWindow = Buffer.allocUnsafe(ENTRY_WINDOW_BYTES);

/** The header of the entry at `at` of the pack open as `fd`, and its data inflated. */
async function readEntry(
  fd: number,
  at: number,
  entry: string,
): Promise<{ header: EntryHeader; data: Buffer }> {
  const read = readSync(fd, entryWindow, 0, ENTRY_WINDOW_BYTES, at);
  const header = readEntryHeader(entryWindow.subarray(0, read));
  const available = read - header.length;
  const bound = compressBound(header.size);
  // What a read of the data alone would get: its bound, or all up to the pack's end.
  if (header.size <= LARGE_ENTRY_BYTES && (available >= bound || read < ENTRY_WINDOW_BYTES)) {
    const deflated = entryWindow.subarray(header.length, header.length + Math.min(bound, available));
    return { header, data: inflateEntry(deflated, header.size, entry).data };
  }
  return { header, data: await readEntryData(fd, at + header.length, header.size, entry) };
}
