import fs from 'node:fs';
import { resolve } from 'node:path';
import git from 'isomorphic-git';
import type { TagRef } from '../../core/index.js';
import { isAncestorOf } from './ancestry.js';
import { type CommitInfo, readCommitInfo } from './commit-info.js';
import { BranchNotFoundError } from './errors.js';
import { fetchBranch, fetchFailure, lastFetchedHead, prepareFetchCache } from './fetch-branch.js';
import { fetchTags } from './fetch-tags.js';
import { authCallback, type GitCredentials } from './git-credentials.js';
import { gitErrorCode } from './git-error-code.js';
import { listTags } from './list-tags.js';
import { findLocalGitdir } from './local-repository.js';
import type { ObjectStore } from './object-store.js';
import { countPacks, removeAbandonedPackFiles } from './pack-files.js';
import { isPrefetchable, prefetchCommit } from './prefetch-commit.js';
import { readNote } from './read-note.js';
import { readTreeAt, type TreeSnapshot, type TreeUpdate } from './read-tree.js';
import { type RefAdvertisement, readRefAdvertisement } from './ref-advertisement.js';
import type { Remote } from './remote.js';
import { repackObjects } from './repack.js';
import { type SourceLocation, sourceLocation } from './source-location.js';
import { type StoreFiles, storeFiles } from './store-files.js';
import { DEFAULT_TREE_LIMITS, type TreeLimits } from './tree-limits.js';

export interface GitSourceOptions {
  /** An http(s) URL, or the path (or file:// URL) of a repository on this machine, bare or not. */
  readonly url: string;
  readonly branch: string;
  /** Where the clone of an http(s) repository lives; reused across restarts. Unused for a local path. */
  readonly cacheDir: string;
  /**
   * How long a fetch waits for the server: the ref listing's answer, and each next bytes of a pack
   * (a deadline on progress, so a large first clone is not cut short). Default DEFAULT_GIT_TIMEOUT_MS.
   */
  readonly timeoutMs?: number;
  /** Told how many files a read of a whole tree has read so far, out of how many (a first sync). */
  readonly onReadProgress?: (read: number, total: number) => void;
  /** Presented when an http(s) server asks (401); credentials inside `url` are used without them. */
  readonly credentials?: GitCredentials;
  /** How large a tree is read; larger ones are refused with a TreeLimitError. Default DEFAULT_TREE_LIMITS. */
  readonly limits?: Partial<TreeLimits>;
  /** How many packs the clone may hold before compactPacks() repacks it. Default DEFAULT_PACK_LIMIT. */
  readonly packLimit?: number;
}

/** What compactPacks() did: how many packs there were and are, and how long git took. */
export interface PackCompaction {
  readonly packsBefore: number;
  readonly packsAfter: number;
  readonly ms: number;
}

/** The syncer's view of the tracked branch of a git repository. */
export interface GitSource {
  /**
   * Fetches the branch (a clone on first use, then incremental fetches) and resolves with the head
   * of the branch on the server. Calls made while a fetch runs share it. Throws BranchNotFoundError
   * when the branch does not exist, GitUnreachableError on a network or HTTP failure (with cause).
   */
  fetchHead(): Promise<string>;
  /**
   * Says that the branch was pushed to `commit` (a verified push webhook's `after`): the next fetch
   * asks the server for that commit's objects while it lists the refs, instead of after. The listing
   * alone still decides the head: an announcement that is stale or wrong costs a request, never a
   * wrong head. Ignored for a repository on this machine, and for anything but an object id.
   */
  announceHead(commit: string): void;
  /**
   * The head the last fetch brought into the cache directory (a restart finds it there), read
   * without the network: what can be read while `fetchHead` asks the server whether the branch
   * moved. Undefined before the first fetch, and for a repository on this machine, whose fetch is
   * a read of the ref itself.
   */
  cachedHead(): Promise<string | undefined>;
  /** What `/head` and the history record say of `commit`; remembered once read, as a commit never changes. */
  commitInfo(commit: string): Promise<CommitInfo>;
  /**
   * The files at `commit`. With `previous`, walks only the subtrees whose object ids differ and
   * reuses the very same Uint8Array objects of `previous.tree` for unchanged files (callers cache
   * parse results by identity): a one-file commit costs the same on a 10,000-file repository as on
   * a 100-file one. Regular files only: symbolic links and submodules are left out.
   */
  readTree(commit: string, previous?: TreeSnapshot): Promise<TreeUpdate>;
  /**
   * Whether `ancestor` is an ancestor of (or equal to) `commit`; false when `ancestor` is unknown
   * locally (e.g. force-pushed away). Used to detect force-pushes.
   */
  isAncestor(ancestor: string, commit: string): Promise<boolean>;
  /**
   * Every tag with the commit it points at, as of the last fetchHead (which fetches tags too; tags
   * deleted on the server disappear). Environments that track tags serve the newest matching one.
   */
  listTags(): Promise<TagRef[]>;
  /**
   * The note `notesRef` attaches to `commit`, or undefined. For a remote repository, the notes are
   * as of the last fetchHead (fetched then only if they moved, so a poll sees a note written since).
   * Cairn's bot records a merge's approvals under refs/notes/cairn-approvals.
   */
  readNote(notesRef: string, commit: string): Promise<string | undefined>;
  /**
   * Repacks the clone into one pack when it holds more than `packLimit` (every fetch adds one, and
   * every object lookup reads each pack's index), in a git process of its own. It waits for the calls
   * under way to end, and calls made meanwhile wait for it; then the cached pack indexes are
   * dropped, so nothing reads a pack git deleted. Resolves with what it did, or undefined when there
   * were few enough packs (and for a repository on this machine, which is never repacked); rejects
   * with a RepackError when git fails (the clone keeps its packs).
   */
  compactPacks(): Promise<PackCompaction | undefined>;
  /** Drops the object cache. The source stays usable, and builds a new cache when next used. */
  close(): void;
}

/** Commits whose information a source remembers; more, and it starts again from none. */
const REMEMBERED_COMMITS = 64;

/** How long a fetch waits for the server unless told otherwise (the syncer's `--git-timeout`). */
export const DEFAULT_GIT_TIMEOUT_MS = 30_000;

/**
 * Packs a clone may hold before compactPacks() repacks it. Lookups slow down with every pack (each
 * index is searched in turn); a repack costs about a copy of the repository, so not after every
 * commit. git gc's own default (gc.autoPackLimit) is 50 too.
 */
export const DEFAULT_PACK_LIMIT = 50;

/**
 * Opens the branch `options.branch` of the repository `options.url`. Nothing is read before the
 * first call. An http(s) repository is fetched into `options.cacheDir` (a bare repository); a
 * repository on this machine is read in place, as isomorphic-git fetches only over HTTP and a
 * copy of a repository on the same disk would buy nothing.
 */
export function openGitSource(options: GitSourceOptions): GitSource {
  return new IsomorphicGitSource(options, sourceLocation(options.url));
}

class IsomorphicGitSource implements GitSource {
  readonly #options: GitSourceOptions;
  readonly #location: SourceLocation;
  #gitdir: Promise<string> | undefined;
  #cache: object = {};
  /** The clone's files as isomorphic-git reads them, for a remote's clone (see store-files.ts). */
  readonly #files: StoreFiles | undefined;
  #fetching: Promise<string> | undefined;
  /** A remote's refs as the last fetch found them: its tags and notes are read from here. */
  #advertisement: RefAdvertisement | undefined;
  /** Tagged commits known to be in the store (objects never leave it): not looked up again. */
  readonly #taggedCommits = new Set<string>();
  /** The branch head the last fetch brought, as the local ref names it: offered to the server as `have`. */
  #fetchedHead: string | undefined;
  /** The head a push announced, for the next fetch to ask for ahead of the listing. */
  #announced: string | undefined;
  /** Calls under way that read the store; a repack waits until there are none. */
  #readers = 0;
  #noReaders: (() => void) | undefined;
  /** A repack under way (or waiting for the readers to end): new calls wait for it. */
  #compacting: Promise<PackCompaction | undefined> | undefined;
  /** The commits whose information was read, by id: a few, the branch's and the tags' latest. */
  readonly #commits = new Map<string, Promise<CommitInfo>>();

  constructor(options: GitSourceOptions, location: SourceLocation) {
    this.#options = options;
    this.#location = location;
    this.#files = location.kind === 'remote' ? storeFiles(resolve(options.cacheDir)) : undefined;
  }

  fetchHead(): Promise<string> {
    this.#fetching ??= this.#reading(() => this.#fetchOnce()).finally(() => {
      this.#fetching = undefined;
    });
    return this.#fetching;
  }

  announceHead(commit: string): void {
    if (this.#location.kind === 'remote' && isPrefetchable(commit)) this.#announced = commit;
  }

  async cachedHead(): Promise<string | undefined> {
    if (this.#location.kind === 'local') return undefined;
    return this.#reading(async () => lastFetchedHead(await this.#readStore(), this.#options.branch));
  }

  commitInfo(commit: string): Promise<CommitInfo> {
    // A commit never changes: read once, it is remembered (a failure is not). A restart reads the
    // cached head's ahead of its fetch, and the pass that mirrors it finds it read.
    let info = this.#commits.get(commit);
    if (!info) {
      info = this.#reading(async () => readCommitInfo(await this.#readStore(), commit));
      info.catch(() => this.#commits.delete(commit));
      if (this.#commits.size >= REMEMBERED_COMMITS) this.#commits.clear();
      this.#commits.set(commit, info);
    }
    return info;
  }

  readTree(commit: string, previous?: TreeSnapshot): Promise<TreeUpdate> {
    const limits = { ...DEFAULT_TREE_LIMITS, ...this.#options.limits };
    return this.#reading(async () =>
      readTreeAt(await this.#readStore(), commit, limits, previous, this.#options.onReadProgress),
    );
  }

  isAncestor(ancestor: string, commit: string): Promise<boolean> {
    return this.#reading(async () => isAncestorOf(await this.#readStore(), ancestor, commit));
  }

  async listTags(): Promise<TagRef[]> {
    // A remote's tags are as the last fetch saw them; a local repository's are read now.
    return this.#location.kind === 'remote'
      ? [...(this.#advertisement?.tags ?? [])]
      : this.#reading(async () => listTags(await this.#store()));
  }

  readNote(notesRef: string, commit: string): Promise<string | undefined> {
    return this.#reading(() => this.#readNote(notesRef, commit));
  }

  compactPacks(): Promise<PackCompaction | undefined> {
    if (this.#location.kind === 'local') return Promise.resolve(undefined);
    this.#compacting ??= this.#compact().finally(() => {
      this.#compacting = undefined;
    });
    return this.#compacting;
  }

  async #compact(): Promise<PackCompaction | undefined> {
    if (this.#readers > 0) await new Promise<void>((resolve) => (this.#noReaders = resolve));
    const { gitdir } = await this.#store();
    const packsBefore = await countPacks(gitdir);
    if (packsBefore <= (this.#options.packLimit ?? DEFAULT_PACK_LIMIT)) return undefined;
    const started = performance.now();
    try {
      await repackObjects(gitdir);
    } finally {
      // The indexes (and pack bytes) cached name packs git may have deleted, even if it failed late.
      this.#cache = {};
      this.#files?.packsChanged();
    }
    return { packsBefore, packsAfter: await countPacks(gitdir), ms: Math.round(performance.now() - started) };
  }

  /** Runs `read` once no repack is under way, and keeps any from starting until it ends. */
  async #reading<T>(read: () => Promise<T>): Promise<T> {
    while (this.#compacting) await this.#compacting.catch(() => undefined);
    this.#readers++;
    try {
      return await read();
    } finally {
      if (--this.#readers === 0) {
        this.#noReaders?.();
        this.#noReaders = undefined;
      }
    }
  }

  async #readNote(notesRef: string, commit: string): Promise<string | undefined> {
    const store = await this.#store();
    if (this.#location.kind === 'local') return readNote(store, undefined, notesRef, commit);
    const remote = this.#remote(this.#location.url);
    const timeoutMs = this.#options.timeoutMs ?? DEFAULT_GIT_TIMEOUT_MS;
    // Before any fetch, the refs are listed for this read alone.
    const advertisement =
      this.#advertisement ?? (await readRefAdvertisement(remote, store.display, timeoutMs));
    return readNote(store, { ...remote, timeoutMs, advertisement }, notesRef, commit);
  }

  close(): void {
    this.#cache = {};
    this.#commits.clear();
  }

  async #fetchOnce(): Promise<string> {
    const store = await this.#store();
    const { branch, timeoutMs = DEFAULT_GIT_TIMEOUT_MS } = this.#options;
    if (this.#location.kind === 'remote') {
      // One listing of every ref, then a fetch of only the refs that moved (see ref-advertisement.ts).
      const remote = this.#remote(this.#location.url);
      // Read from the local ref once; after that, each fetch says what it brought.
      const last = this.#fetchedHead ?? (await lastFetchedHead(store, branch));
      // An announced head is asked for first, the listing beside it: the pack is the longer of the
      // two requests (the previous listing lends the negotiation its capabilities; a first fetch has
      // none and waits for its own).
      const announced = this.#announced;
      this.#announced = undefined;
      const ahead =
        announced !== undefined && announced !== last && this.#advertisement !== undefined
          ? prefetchCommit(store, remote, announced, last, timeoutMs, this.#advertisement)
          : undefined;
      const listing = readRefAdvertisement(remote, store.display, timeoutMs);
      let advertisement: RefAdvertisement;
      let fetchedAhead = false;
      try {
        advertisement = await listing;
      } catch (error) {
        throw fetchFailure(error, store.display, branch, `refs/heads/${branch}`);
      } finally {
        // Never left writing a pack behind this fetch's back; it never rejects.
        fetchedAhead = (await ahead) ?? false;
      }
      const head = await fetchBranch(store, remote, branch, timeoutMs, advertisement, {
        last,
        ahead: fetchedAhead ? announced : undefined,
      });
      this.#fetchedHead = head;
      await fetchTags(store, remote, timeoutMs, advertisement, head, this.#taggedCommits);
      this.#advertisement = advertisement;
      return head;
    }
    try {
      return await git.resolveRef({ fs, gitdir: store.gitdir, ref: `refs/heads/${branch}` });
    } catch (error) {
      if (gitErrorCode(error) === 'NotFoundError') {
        throw new BranchNotFoundError(branch, store.display, { cause: error });
      }
      throw error;
    }
  }

  #remote(url: string): Remote {
    const { credentials } = this.#options;
    return credentials ? { url, onAuth: authCallback(credentials) } : { url };
  }

  async #store(): Promise<ObjectStore> {
    // Remembered once it worked; a failure (no repository there yet, a full disk) is tried again.
    this.#gitdir ??= this.#locate().catch((error: unknown) => {
      this.#gitdir = undefined;
      throw error;
    });
    return this.#storeAt(await this.#gitdir);
  }

  /**
   * The store for reading objects and refs. A clone in the cache directory is read as it is, without
   * waiting for the first fetch to prepare it (`prepareFetchCache`): a restart reads its cached head
   * while that fetch starts. Before any fetch there is nothing to read there, as after one that
   * prepared an empty repository.
   */
  async #readStore(): Promise<ObjectStore> {
    const location = this.#location;
    if (location.kind === 'local') return this.#store();
    return this.#storeAt(resolve(this.#options.cacheDir));
  }

  #storeAt(gitdir: string): ObjectStore {
    const files = this.#files;
    const store = { fs, gitdir, cache: this.#cache, display: this.#location.display };
    return files ? { ...store, fs: files.fs, packsChanged: files.packsChanged } : store;
  }

  async #locate(): Promise<string> {
    const location = this.#location;
    if (location.kind === 'local') return findLocalGitdir(location.path);
    const gitdir = resolve(this.#options.cacheDir);
    await prepareFetchCache(gitdir, location.display, this.#options.branch);
    // Before this source starts a transfer: what given-up ones left (one process per clone).
    await removeAbandonedPackFiles(gitdir);
    return gitdir;
  }
}
