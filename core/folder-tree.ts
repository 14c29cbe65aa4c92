import type { RepoTree } from './repo-tree.js';

/**
 * A RepoTree kept as nested folders, each immutable: the tree of the next commit is made with
 * `withChanges`, which makes new folders only along the paths that changed and shares every other
 * folder, by identity, with this tree. A one-file commit to 100,000 files costs a few folders, not a
 * copy of 100,000 paths; and whoever derives something from a folder (the files of a service) can
 * keep it for as long as `folder(path)` returns the same object.
 *
 * Keys are full paths from the repository's root, in path order (as a sorted Map's), whatever folder
 * they are read through.
 */
export class FolderTree implements RepoTree {
  private static readonly EMPTY = new FolderTree('', new Map(), new Map());
  /** `''` for the root, else the folder's path with a trailing slash. */
  readonly prefix: string;
  readonly size: number;
  private readonly files: ReadonlyMap<string, Uint8Array>;
  private readonly folders: ReadonlyMap<string, FolderTree>;
  /** What this folder holds, in path order: each file as the entry a walk yields, each folder. */
  private order: readonly Item[] | undefined;

  private constructor(
    prefix: string,
    files: ReadonlyMap<string, Uint8Array>,
    folders: ReadonlyMap<string, FolderTree>,
    order?: readonly Item[],
  ) {
    this.prefix = prefix;
    this.files = files;
    this.folders = folders;
    this.order = order;
    let size = files.size;
    for (const folder of folders.values()) size += folder.size;
    this.size = size;
  }

  /** The tree of `files`, by path from the root. */
  static of(files: Iterable<readonly [string, Uint8Array]>): FolderTree {
    if (Array.isArray(files)) {
      const entries = files as readonly (readonly [string, Uint8Array])[];
      return FolderTree.ofSorted(entries, false) ?? FolderTree.EMPTY.withChanges(entries, []);
    }
    // Entries of our own (a Map's iterator makes new ones): the tree may keep them as they are.
    const entries = [...files];
    return FolderTree.ofSorted(entries, true) ?? FolderTree.EMPTY.withChanges(entries, []);
  }

  /**
   * The tree of `entries` when they come in path order (as git lists a tree), in one pass: each
   * folder's files are a run of the list, so a folder is made once its run ends, its items already in
   * order. Undefined when they do not come in order, for the general way. With `owned`, the entries
   * are the caller's to give away, and the folders keep them rather than copies.
   */
  private static ofSorted(
    entries: readonly (readonly [string, Uint8Array])[],
    owned: boolean,
  ): FolderTree | undefined {
    if (entries.length === 0) return FolderTree.EMPTY;
    const open: OpenFolder[] = [openFolder('')];
    let previous: string | undefined;
    for (const entry of entries) {
      const [path, bytes] = entry;
      if (previous !== undefined && !(previous < path)) return undefined;
      previous = path;
      let top = open[open.length - 1] as OpenFolder;
      while (!path.startsWith(top.prefix)) {
        open.pop();
        const parent = open[open.length - 1] as OpenFolder;
        addFolder(parent, FolderTree.closed(top));
        top = parent;
      }
      let start = top.prefix.length;
      for (let slash = path.indexOf('/', start); slash >= 0; slash = path.indexOf('/', start)) {
        top = openFolder(path.slice(0, slash + 1));
        open.push(top);
        start = slash + 1;
      }
      top.files.set(path.slice(start), bytes);
      top.order.push(owned ? (entry as Item) : [path, bytes]);
    }
    for (let index = open.length - 1; index > 0; index--)
      addFolder(open[index - 1] as OpenFolder, FolderTree.closed(open[index] as OpenFolder));
    return FolderTree.closed(open[0] as OpenFolder);
  }

  private static closed({ prefix, files, folders, order }: OpenFolder): FolderTree {
    return new FolderTree(prefix, files, folders, order);
  }

  /**
   * This tree with `written` set (new files or new bytes) and `removed` deleted. Folders left with no
   * file go; folders nothing changed under are this tree's own.
   */
  withChanges(written: Iterable<readonly [string, Uint8Array]>, removed: Iterable<string>): FolderTree {
    const changes: Change[] = [];
    for (const [path, bytes] of written) changes.push([path, bytes]);
    for (const path of removed) changes.push([path, undefined]);
    return changes.length === 0 ? this : this.apply(changes);
  }

  /**
   * The folder at `path` under this one (`services/api` from the root: no trailing slash) as a tree
   * of its own, whose keys are still full paths; undefined when there is none.
   */
  folder(path: string): FolderTree | undefined {
    let folder: FolderTree | undefined = this;
    let start = 0;
    while (folder && start < path.length) {
      const slash = path.indexOf('/', start);
      const end = slash < 0 ? path.length : slash;
      folder = folder.folders.get(path.slice(start, end));
      start = end + 1;
    }
    return folder;
  }

  /** What this folder holds directly, by name, in path order: each file's bytes, each folder. */
  *items(): IterableIterator<[name: string, item: Uint8Array | FolderTree]> {
    const start = this.prefix.length;
    for (const item of this.sorted()) {
      if (item instanceof FolderTree) yield [item.prefix.slice(start, -1), item];
      else yield [item[0].slice(start), item[1]];
    }
  }

  get(path: string): Uint8Array | undefined {
    if (!path.startsWith(this.prefix)) return undefined;
    let folder: FolderTree | undefined = this;
    let start = this.prefix.length;
    for (let slash = path.indexOf('/', start); folder && slash >= 0; slash = path.indexOf('/', start)) {
      folder = folder.folders.get(path.slice(start, slash));
      start = slash + 1;
    }
    return folder?.files.get(path.slice(start));
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  /**
   * Every file under this folder, by full path, in path order. A walk with a stack of its own rather
   * than nested generators, which would hand each file up through one generator per folder level;
   * the entries are made once per folder and yielded again on every walk: do not change them.
   */
  *entries(): MapIterator<[string, Uint8Array]> {
    const folders: FolderTree[] = [this];
    const positions = [0];
    while (folders.length > 0) {
      const top = folders.length - 1;
      const items = (folders[top] as FolderTree).sorted();
      const position = positions[top] as number;
      if (position === items.length) {
        folders.pop();
        positions.pop();
        continue;
      }
      positions[top] = position + 1;
      const item = items[position] as Item;
      if (item instanceof FolderTree) {
        folders.push(item);
        positions.push(0);
      } else yield item;
    }
  }

  *keys(): MapIterator<string> {
    for (const [path] of this.entries()) yield path;
  }

  *values(): MapIterator<Uint8Array> {
    for (const [, bytes] of this.entries()) yield bytes;
  }

  [Symbol.iterator](): MapIterator<[string, Uint8Array]> {
    return this.entries();
  }

  forEach(callback: (bytes: Uint8Array, path: string, map: ReadonlyMap<string, Uint8Array>) => void): void {
    for (const [path, bytes] of this.entries()) callback(bytes, path, this);
  }

  private sorted(): readonly Item[] {
    if (!this.order) {
      // A folder sorts as its path with a trailing slash (its prefix): then each folder's run of paths
      // falls where the whole paths, compared as strings, put it.
      const keyed: [string, Item][] = [];
      for (const [name, bytes] of this.files) {
        const path = this.prefix + name;
        keyed.push([path, [path, bytes]]);
      }
      for (const folder of this.folders.values()) keyed.push([folder.prefix, folder]);
      keyed.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      this.order = keyed.map(([, item]) => item);
    }
    return this.order;
  }

  /** This folder with `changes` (full paths under it) applied: a new folder, or this one when none apply. */
  private apply(changes: readonly Change[]): FolderTree {
    const start = this.prefix.length;
    let files: Map<string, Uint8Array> | undefined;
    const below = new Map<string, Change[]>();
    for (const change of changes) {
      const [path, bytes] = change;
      const slash = path.indexOf('/', start);
      if (slash >= 0) {
        const name = path.slice(start, slash);
        const list = below.get(name);
        if (list) list.push(change);
        else below.set(name, [change]);
        continue;
      }
      const name = path.slice(start);
      if (bytes === undefined ? !this.files.has(name) : this.files.get(name) === bytes) continue;
      files ??= new Map(this.files);
      if (bytes === undefined) files.delete(name);
      else files.set(name, bytes);
    }
    let folders: Map<string, FolderTree> | undefined;
    for (const [name, list] of below) {
      const before = this.folders.get(name);
      const after = (before ?? new FolderTree(`${this.prefix}${name}/`, new Map(), new Map())).apply(list);
      if (after === before || (before === undefined && after.size === 0)) continue;
      folders ??= new Map(this.folders);
      if (after.size === 0) folders.delete(name);
      else folders.set(name, after);
    }
    if (!files && !folders) return this;
    return new FolderTree(this.prefix, files ?? this.files, folders ?? this.folders);
  }
}

/** A folder `FolderTree.ofSorted` is still filling. */
interface OpenFolder {
  readonly prefix: string;
  readonly files: Map<string, Uint8Array>;
  readonly folders: Map<string, FolderTree>;
  readonly order: Item[];
}

function openFolder(prefix: string): OpenFolder {
  return { prefix, files: new Map(), folders: new Map(), order: [] };
}

/** Adds a folder, made once its run of paths ended, to the open folder it is in. */
function addFolder(into: OpenFolder, folder: FolderTree): void {
  into.folders.set(folder.prefix.slice(into.prefix.length, -1), folder);
  into.order.push(folder);
}

/** A file of a folder, as the entry a walk yields (full path, bytes), or a folder under it. */
type Item = [path: string, bytes: Uint8Array] | FolderTree;

/** A path under the folder applying it, with its new bytes, or undefined to delete it. */
type Change = readonly [path: string, bytes: Uint8Array | undefined];
