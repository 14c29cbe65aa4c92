import {
  isUnsafeTreeEntryName,
  mayHoldUnsafeTreeEntryName,
  rememberContentId,
  type SliceOptions,
  sliceYielder,
} from '../../core/index.js';
import { treeOfCommit } from './commit-info.js';
import { UnsafeTreeEntryError } from './errors.js';
import { listFilesWithGit, startBlobReader } from './git-command.js';
import { parseTree, type TreeEntry } from './git-objects.js';
import { readObject } from './object-reader.js';
import type { ObjectStore } from './object-store.js';
import { pathDepth, TreeLimitError, type TreeLimits } from './tree-limits.js';

/** How the files of one tree differ from another's, as a RepoTree sees files. */
export interface TreeChanges {
  /** Paths of files that are new or have new bytes, with those bytes. */
  readonly written: ReadonlyMap<string, Uint8Array>;
  /** Paths of files that are gone: deleted, or no longer a regular file. */
  readonly removed: ReadonlySet<string>;
}

/** Files read at once by `readAllFiles`: enough to keep the disk and libuv's threads busy. */
const CONCURRENT_READS = 16;

const REGULAR_FILE_MODES: ReadonlySet<string> = new Set(['100644', '100755']);

/**
 * Every file of the tree of `commit`, by path, in the order git lists them. Only regular files
 * count: symbolic links (mode 120000) could point outside the repository and submodules (160000)
 * have no content here, so both are left out.
 *
 * The tree is listed by `git ls-tree -r` (of the commit itself, so no object is read here first)
 * and its blobs read by one `git cat-file --batch`, started beside it and asked for each piece of
 * the listing as it arrives: the files are read while the rest is listed, not after. Where no git
 * command is installed, the tree is walked here, folder by folder, and its blobs read as a diff
 * reads them (git's `canon_mode` decides what is a file either way). `onProgress` counts files
 * read out of the total, from when the listing is complete: the first sync of a large repository
 * shows how far it is. A tree over `limits`, or with an unsafe name, is refused as it is listed, at
 * the first file over the limit (a file past it is never read). A commit the store lacks is a
 * CommitNotFoundError.
 */
export async function readAllFiles(
  store: ObjectStore,
  commit: string,
  limits: TreeLimits,
  onProgress?: (read: number, total: number) => void,
): Promise<Map<string, Uint8Array>> {
  const reader = startBlobReader(store.gitdir);
  // Files with the same bytes are one blob, read once.
  const wanted = new Set<string>();
  let listed: [path: string, oid: string][] | undefined;
  try {
    listed = await listFilesWithGit(store.gitdir, commit, 'git', {
      onFile(path, _oid, index) {
        throwAtUnsafePath(path);
        checkLimits(path, index, limits);
      },
      onFiles(files) {
        const oids: string[] = [];
        for (const [, oid] of files) {
          if (wanted.has(oid)) continue;
          wanted.add(oid);
          oids.push(oid);
        }
        reader.want(oids);
      },
    }).catch(async (error: unknown) => {
      if (error instanceof UnsafeTreeEntryError || error instanceof TreeLimitError) throw error;
      // git names no missing commit in a way worth parsing: reading the commit says what is wrong.
      await treeOfCommit(store, commit);
      throw error;
    });
  } catch (error) {
    reader.abort();
    throw error;
  }
  const files = new Map<string, Uint8Array>();
  // Files are placed in listing order as soon as their blob is in: git sends the blobs in the order
  // they were asked for, which is the listing's, so a large tree's map is built while git still
  // writes, not in one go at the end (on 100,000 files, that and a copy of every path held the event
  // loop for 605 ms).
  let placed = 0;
  const placeRead = (
    entries: readonly [path: string, oid: string][],
    blobOf: (oid: string) => Uint8Array | undefined,
  ) => {
    for (; placed < entries.length; placed++) {
      const [path, oid] = entries[placed] as [string, string];
      const bytes = blobOf(oid);
      if (bytes === undefined) return;
      // The blob id is the content id: nobody needs to hash these bytes again.
      rememberContentId(bytes, oid);
      files.set(path, bytes);
    }
  };
  if (listed) {
    const entries = listed;
    const total = wanted.size;
    let reported = -1;
    const report = (read: number) => {
      placeRead(entries, reader.readBlob);
      if (read > reported) onProgress?.(read, total);
      reported = read;
    };
    const blobs = await reader.read([], report);
    if (blobs) {
      placeRead(entries, (oid) => blobs.get(oid));
      report(total);
      return files;
    }
  } else {
    reader.abort();
  }
  // No git command: the tree is walked (unless git listed it), and its blobs read one by one.
  const entries = listed ?? (await walkFiles(store, await treeOfCommit(store, commit), limits));
  const oids = [...new Set(entries.map(([, oid]) => oid))];
  onProgress?.(0, oids.length);
  const blobs = await readBlobsOneByOne(store, oids, onProgress);
  placeRead(entries, (oid) => blobs.get(oid));
  return files;
}

/**
 * The regular files of `tree` with their blob ids, in the order `git ls-tree -r` lists them: each
 * folder's entries in the tree's own order, a subfolder's files where the subfolder stands. A folder
 * deeper than `limits.maxPathDepth` is refused before it is read, a file over either limit when it is
 * reached, and a name no checkout may hold when its folder is read (parseTree, naming its path).
 */
async function walkFiles(
  store: ObjectStore,
  tree: string,
  limits: TreeLimits,
): Promise<[path: string, oid: string][]> {
  const entries: [path: string, oid: string][] = [];
  // Each folder's tree is read without a turn of the event loop (object-reader.ts): a large tree
  // hands the loop back between folders once a slice is spent.
  const between = sliceYielder();
  const walkFolder = async (prefix: string, oid: string): Promise<void> => {
    await between();
    for (const [name, entry] of await entriesOf(store, oid, prefix)) {
      const path = prefix + name;
      if (entry.type === 'tree') {
        if (pathDepth(path) > limits.maxPathDepth)
          throw new TreeLimitError('depth', path, limits.maxPathDepth);
        await walkFolder(`${path}/`, entry.oid);
      } else if (fileOid(entry) !== undefined) {
        checkLimits(path, entries.length, limits);
        entries.push([path, entry.oid]);
      }
    }
  };
  await walkFolder('', tree);
  return entries;
}

/** Every blob of `oids`, read a few at a time: for a machine without a `git` command. */
async function readBlobsOneByOne(
  store: ObjectStore,
  oids: readonly string[],
  onProgress?: (read: number, total: number) => void,
): Promise<Map<string, Uint8Array>> {
  const blobs = new Map<string, Uint8Array>();
  // A few reads at a time: started all at once, 10,000 reads queue on libuv's four threads and
  // finish together at the end, so progress would stand still and then jump.
  let next = 0;
  let read = 0;
  // A packed object is read without a trip through libuv's threads: the loop is handed back when a
  // slice is spent, not at each read.
  const between = sliceYielder();
  const reader = async () => {
    for (let index = next++; index < oids.length; index = next++) {
      const oid = oids[index] as string;
      await between();
      blobs.set(oid, await readFile(store, oid));
      onProgress?.(++read, oids.length);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENT_READS }, reader));
  return blobs;
}

/**
 * The changes that turn the files of tree `from` into those of tree `to`, with the notion of a
 * file of `readAllFiles`: a file that became a symbolic link or a submodule counts as removed. A
 * change of the executable bit alone changes no bytes, so it is no change.
 *
 * Two subtrees with the same object id hold the same files: they are not even read, so a diff
 * costs what changed, not the size of the repository. (isomorphic-git's `walk` reads every child
 * tree of a folder before its `map` may skip it: one level too deep, as many reads as the folder
 * has subfolders. Reading trees by id here avoids that.)
 *
 * A folder deeper than `limits.maxPathDepth` is refused before it is read, and no more than
 * `limits.maxFiles` files are read: the caller checks the total once the changes are applied.
 */
export async function diffTrees(
  store: ObjectStore,
  from: string,
  to: string,
  limits: TreeLimits,
  slices?: SliceOptions,
): Promise<TreeChanges> {
  const written = new Map<string, Uint8Array>();
  const removed = new Set<string>();
  let reads = 0;
  // A packed object is read without a turn of the event loop (object-reader.ts): a commit that
  // changes thousands of files hands the loop back between reads once a slice is spent.
  const between = sliceYielder(slices);

  const diffFolder = async (prefix: string, before: string | undefined, after: string | undefined) => {
    if (before === after) return;
    // `a/b/` counts 3: the depth of the folder's entries, refused before the folder is read.
    if (after !== undefined && pathDepth(prefix) > limits.maxPathDepth)
      throw new TreeLimitError('depth', prefix.slice(0, -1), limits.maxPathDepth);
    const [oldEntries, newEntries] = await Promise.all([
      entriesOf(store, before, prefix),
      entriesOf(store, after, prefix),
    ]);
    const names = new Set([...oldEntries.keys(), ...newEntries.keys()]);
    // Counted before any of the folder's files is read: a folder of 200,000 new files reads none.
    const toRead = [...names].filter((name) => {
      const newFile = fileOid(newEntries.get(name));
      return newFile !== undefined && newFile !== fileOid(oldEntries.get(name));
    });
    if (reads + toRead.length > limits.maxFiles)
      throw new TreeLimitError('files', prefix + toRead[limits.maxFiles - reads], limits.maxFiles);
    reads += toRead.length;
    // One entry after the other: reads started all at once would all wait for the same turn, then
    // run in one go (a folder of 10,000 new files, hundreds of milliseconds).
    for (const name of names) {
      const path = prefix + name;
      const oldEntry = oldEntries.get(name);
      const newEntry = newEntries.get(name);
      const [oldFolder, newFolder] = [folderOid(oldEntry), folderOid(newEntry)];
      const [oldFile, newFile] = [fileOid(oldEntry), fileOid(newEntry)];
      // A path may stop being a file and become a folder in the same commit, or the reverse.
      if (oldFolder !== newFolder) await diffFolder(`${path}/`, oldFolder, newFolder);
      if (oldFile === newFile) continue;
      if (newFile === undefined) removed.add(path);
      else {
        await between();
        written.set(path, await readFile(store, newFile));
      }
    }
  };

  await diffFolder('', from, to);
  return { written, removed };
}

/**
 * The entries of the folder `prefix` (`''` or ending in `/`); a name no checkout may hold is an
 * UnsafeTreeEntryError naming its path (see git-objects.ts).
 */
async function entriesOf(
  store: ObjectStore,
  tree: string | undefined,
  prefix = '',
): Promise<Map<string, TreeEntry>> {
  if (tree === undefined) return new Map();
  return parseTree((await readObject(store, tree, 'tree')).bytes, prefix);
}

/**
 * git lists names that a diff refuses to read (and no checkout may have): the same names
 * refuse the commit whichever of the two read the tree.
 */
function throwAtUnsafePath(path: string): void {
  // Every path of a tree passes here: nearly all are settled by one scan of the whole path.
  if (!mayHoldUnsafeTreeEntryName(path)) return;
  const segments = path.split('/');
  const unsafe = segments.findIndex(isUnsafeTreeEntryName);
  if (unsafe >= 0) throw new UnsafeTreeEntryError(segments.slice(0, unsafe + 1).join('/'));
}

/** Throws a TreeLimitError when `path` is too deep, or is the file counted `index` (from 0) over the limit. */
export function checkLimits(path: string, index: number, limits: TreeLimits): void {
  if (index >= limits.maxFiles) throw new TreeLimitError('files', path, limits.maxFiles);
  if (pathDepth(path) > limits.maxPathDepth) throw new TreeLimitError('depth', path, limits.maxPathDepth);
}

function folderOid(entry: TreeEntry | undefined): string | undefined {
  return entry?.type === 'tree' ? entry.oid : undefined;
}

/** The blob of a regular file (mode 100644 or 100755); undefined for anything else. */
function fileOid(entry: TreeEntry | undefined): string | undefined {
  if (entry?.type !== 'blob') return undefined;
  return REGULAR_FILE_MODES.has(entry.mode) ? entry.oid : undefined;
}

async function readFile(store: ObjectStore, blob: string): Promise<Uint8Array> {
  const read = (await readObject(store, blob, 'blob')).bytes;
  // A file is a plain Uint8Array, as those `cat-file` hands over: a view, nothing copied.
  const bytes = new Uint8Array(read.buffer, read.byteOffset, read.byteLength);
  rememberContentId(bytes, blob);
  return bytes;
}
