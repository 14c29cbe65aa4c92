import { closeSync, openSync, read, readSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { inflate, inflateSync } from 'node:zlib';
import type { ObjectStore } from './object-store.js';
import {
  applyDelta,
  compressBound,
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
 * a repack replaces. A pack is opened for one read and closed after it, so no descriptor outlives a
 * read, and a pack a repack removed is never read again once the listing no longer names it.
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
  return { type: type as ObjectType, bytes: raw.subarray(nul + 1) };
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
}

const indexesByCache = new WeakMap<object, KnownIndexes>();

/**
 * Deltas one object may stack, bases named by id included: git makes chains of 50 at most by
 * default (`pack.depth`); a pack whose bases loop is refused rather than read for ever.
 */
const MAX_DELTA_CHAIN = 10_000;

async function readPacked(store: ObjectStore, oid: string, chained: number): Promise<GitObject | undefined> {
  const id = Buffer.from(oid, 'hex');
  for (const index of await packIndexes(store)) {
    const offset = offsetOf(index, id);
    if (offset === undefined) continue;
    let fd: number;
    try {
      fd = openSync(index.packPath, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new PackGoneError(`${index.packPath} is gone from ${store.display}`, { cause: error });
    }
    try {
      return await readAt(store, fd, index, offset, chained);
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
  let known = indexesByCache.get(store.cache);
  if (!known) {
    known = { byPath: new Map() };
    indexesByCache.set(store.cache, known);
  }
  const { listed } = known;
  if (listed && listed.names.length === names.length && listed.names.every((name, n) => name === names[n])) {
    return listed.indexes;
  }
  const { byPath } = known;
  // The indexes of packs no longer listed (a repack, a gc of a local repository) are let go.
  const listedNames = new Set(names);
  for (const path of byPath.keys()) if (!listedNames.has(basename(path))) byPath.delete(path);
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
  return { packPath: `${path.slice(0, -'.idx'.length)}.pack`, bytes, count };
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

/** The longest entry header: a type and size of up to 64 bits, then a delta's base (20 bytes of id at most). */
const HEADER_BYTES = 32;

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
): Promise<GitObject> {
  // A delta chain is read from its end back to the whole object it starts from, then applied forward.
  const deltas: Buffer[] = [];
  for (let at = offset; ; ) {
    if (chained + deltas.length > MAX_DELTA_CHAIN) {
      throw new PackFormatError(`${index.packPath} is damaged: a chain of over ${MAX_DELTA_CHAIN} deltas`);
    }
    const head = Buffer.allocUnsafe(HEADER_BYTES);
    const headRead = readSync(fd, head, 0, HEADER_BYTES, at);
    const header = readEntryHeader(head.subarray(0, headRead));
    const dataStart = at + header.length;
    const data = await readEntryData(fd, dataStart, header.size, `${index.packPath}'s entry at ${at}`);
    if (header.kind === 'object') {
      let object: Buffer = data;
      for (let next = deltas.pop(); next; next = deltas.pop()) object = applyDelta(object, next);
      return { type: header.type, bytes: object };
    }
    deltas.push(data);
    if (header.kind === 'ofs-delta') {
      if (header.baseDistance > at)
        throw new PackFormatError(`${index.packPath} is damaged: a delta's base before the pack`);
      at -= header.baseDistance;
      continue;
    }
    // A base named by id may be anywhere in the store.
    const base =
      (await readLoose(store, header.baseId)) ??
      (await readPacked(store, header.baseId, chained + deltas.length));
    if (!base)
      throw new PackFormatError(
        `${index.packPath} holds a delta whose base ${header.baseId} is not in the store`,
      );
    let object: Buffer = base.bytes;
    for (let next = deltas.pop(); next; next = deltas.pop()) object = applyDelta(object, next);
    return { type: base.type, bytes: object };
  }
}
