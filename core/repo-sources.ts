import { runSteps } from './event-loop-slices.js';
import { FolderTree } from './folder-tree.js';
import { unsafePathReason } from './path-safety.js';
import { classifyPath, type RepoPath } from './repo-layout.js';
import type { RepoTree } from './repo-tree.js';

/** The files of one service, sorted into their places in the layout (paths, in path order). */
export interface ServiceSources {
  readonly name: string;
  manifest?: string;
  /** Base files by name under config/, templates with their `.liquid`. */
  readonly bases: Map<string, string>;
  readonly overlays: { env: string; file: string; path: string }[];
  readonly releases: { env: string; path: string }[];
  readonly stray: string[];
}

export interface UnsafePath {
  readonly path: string;
  readonly reason: string;
}

/** Every path of a tree in its place. */
export interface RepoSources {
  readonly hasSettings: boolean;
  readonly hasPolicy: boolean;
  /** By service, in the order their first path comes. */
  readonly services: Map<string, ServiceSources>;
  /** Paths no checkout may hold, in path order. */
  readonly unsafe: UnsafePath[];
  /**
   * For a FolderTree, the folder (`services/<name>`) each service was sorted from: the same object
   * as long as none of its files changed.
   */
  readonly folders: Map<string, FolderTree>;
}

export type PathPlace = RepoPath | { readonly kind: 'unsafe'; readonly reason: string };

/** A service folder sorted once: what its paths made, kept while the folder is the same object. */
export interface SortedFolder {
  readonly services: ReadonlyMap<string, ServiceSources>;
  readonly unsafe: readonly UnsafePath[];
}

/**
 * What sorting learns that the next sort reuses: each service folder's sources. (Each path's place
 * is not kept: placing a path costs a microsecond or two, about what looking it up in a map of every
 * path cost, and such a map made a first sort of 10,000 paths 10–20 ms slower.)
 */
export interface SourcesCache {
  readonly folders: WeakMap<FolderTree, SortedFolder>;
}

/**
 * Sorts every path of `tree` into its place. A FolderTree is walked folder by folder, and a service
 * folder that `cache` sorted before (the very same folder object: none of its files changed) is not
 * walked again, so a one-file commit sorts the files of one service, not of the repository. The
 * result is the same as sorting every path in path order, whatever the tree.
 */
export function sortRepoSources(tree: RepoTree, cache?: SourcesCache): RepoSources {
  return runSteps(sortRepoSourcesSteps(tree, cache));
}

/** `sortRepoSources` as steps: it pauses after each service folder it sorts (see runSteps). */
export function* sortRepoSourcesSteps(
  tree: RepoTree,
  cache?: SourcesCache,
): Generator<void, RepoSources, void> {
  const sources = emptySorting();
  if (!(tree instanceof FolderTree)) {
    for (const path of tree.keys()) sortPath(path, sources);
    return sources;
  }
  for (const [name, item] of tree.items()) {
    if (!(item instanceof FolderTree)) sortPath(name, sources);
    else if (name !== SERVICES_DIR) for (const path of item.keys()) sortPath(path, sources);
    else {
      for (const [serviceName, serviceItem] of item.items()) {
        if (serviceItem instanceof FolderTree) {
          addFolder(serviceName, serviceItem, sources, cache);
          yield;
        } else sortPath(`${SERVICES_DIR}/${serviceName}`, sources);
      }
    }
  }
  return sources;
}

const SERVICES_DIR = 'services';

/** RepoSources while it is being filled. */
type Sorting = { -readonly [K in keyof RepoSources]: RepoSources[K] };

function emptySorting(): Sorting {
  return { hasSettings: false, hasPolicy: false, services: new Map(), unsafe: [], folders: new Map() };
}

/** A service folder's sources: sorted again only when the folder is not the one sorted before. */
function addFolder(name: string, folder: FolderTree, into: Sorting, cache: SourcesCache | undefined): void {
  let sorted = cache?.folders.get(folder);
  if (!sorted) {
    const own = emptySorting();
    for (const path of folder.keys()) sortPath(path, own);
    sorted = { services: own.services, unsafe: own.unsafe };
    cache?.folders.set(folder, sorted);
  }
  for (const unsafe of sorted.unsafe) into.unsafe.push(unsafe);
  // Every safe path under services/<name>/ belongs to that service, and to no other.
  for (const [service, sources] of sorted.services) into.services.set(service, sources);
  if (sorted.services.has(name)) into.folders.set(name, folder);
}

function sortPath(path: string, into: Sorting): void {
  const unsafe = unsafePathReason(path);
  const place: PathPlace = unsafe ? { kind: 'unsafe', reason: unsafe } : classifyPath(path);
  switch (place.kind) {
    case 'unsafe':
      into.unsafe.push({ path, reason: place.reason });
      break;
    case 'settings':
      into.hasSettings = true;
      break;
    case 'policy':
      into.hasPolicy = true;
      break;
    case 'service':
      serviceSources(into, place.service).manifest = path;
      break;
    case 'config':
      serviceSources(into, place.service).bases.set(place.file, path);
      break;
    case 'overlay':
      serviceSources(into, place.service).overlays.push({ env: place.env, file: place.file, path });
      break;
    case 'release':
      serviceSources(into, place.service).releases.push({ env: place.env, path });
      break;
    case 'stray':
      serviceSources(into, place.service).stray.push(path);
      break;
    case 'other':
      break;
  }
}

/** The sources of service `name` in `into`, added when it has none yet. */
function serviceSources(into: Sorting, name: string): ServiceSources {
  let sources = into.services.get(name);
  if (!sources) {
    sources = { name, bases: new Map(), overlays: [], releases: [], stray: [] };
    into.services.set(name, sources);
  }
  return sources;
}
