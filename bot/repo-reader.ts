import {
  classifyPath,
  contentId,
  type Diagnostic,
  diagnostic,
  mapWithConcurrency,
  type RepoTree,
  START_OF_FILE,
} from '../core/index.js';
import { BlobMismatchError, TreeTruncatedError } from './errors.js';
import type { GitObjectCache } from './git-object-cache.js';
import type { GitHub, TreeEntry, TreeListing } from './github.js';

/** Git modes of the only entries Cairn reads: regular files, executable or not. */
const REGULAR_FILE_MODES = new Set(['100644', '100755']);

/**
 * Files above this are not fetched at all. Any file Cairn reads must fit in a ZooKeeper node
 * (about 1 MiB), so such a file is an error whatever it holds; reading it would only cost memory.
 */
export const MAX_FETCHED_BLOB_BYTES = 16 * 1024 * 1024;

/** A repository at one commit, as the validator and the model take it. */
export interface RepoSnapshot {
  readonly sha: string;
  /** Regular files by path, each byte exact: binary and non-UTF-8 content arrives as committed. */
  readonly tree: RepoTree;
  /** What the tree holds that is not a readable regular file (links, submodules, huge files). */
  readonly problems: readonly Diagnostic[];
}

/**
 * Reads commits through the Git Data API (one recursive tree listing, then one request per blob not
 * already cached), never through a checkout: content from a pull request is only ever data.
 */
export class RepoReader {
  constructor(
    private readonly github: GitHub,
    private readonly cache: GitObjectCache,
    private readonly concurrency: number,
  ) {}

  /** The whole recursive listing of a commit; a truncated listing is an error, never a partial tree. */
  async listing(sha: string): Promise<TreeListing> {
    const listing = await this.cache.tree(`${this.github.fullName}@${sha}`, () =>
      this.github.getTree(sha, true),
    );
    if (listing.truncated) throw new TreeTruncatedError(sha, listing.entries.length);
    return listing;
  }

  /** The id of a commit's tree: two commits with the same tree hold the same files, byte for byte. */
  commitTree(sha: string): Promise<string> {
    return this.cache.commitTree(`${this.github.fullName}@${sha}`, () => this.github.getCommitTree(sha));
  }

  async snapshot(sha: string): Promise<RepoSnapshot> {
    const listing = await this.listing(sha);
    const problems: Diagnostic[] = [];
    const wanted: TreeEntry[] = [];
    for (const entry of listing.entries) {
      if (entry.type === 'tree') continue;
      const reason = unreadableReason(entry);
      if (reason) {
        problems.push(
          diagnostic(
            entry.path,
            START_OF_FILE,
            'error',
            'path/unsafe',
            `${reason}: config must be regular files, a link could point outside the repository`,
          ),
        );
      } else if ((entry.size ?? 0) > MAX_FETCHED_BLOB_BYTES) {
        const ignored = classifyPath(entry.path).kind === 'other';
        problems.push(
          diagnostic(
            entry.path,
            START_OF_FILE,
            ignored ? 'warning' : 'error',
            'file/too-large',
            `file is ${entry.size} bytes: Cairn does not read files over ${MAX_FETCHED_BLOB_BYTES} bytes` +
              (ignored
                ? ' (it is not configuration, so nothing is lost)'
                : '; move it out of the config repository'),
          ),
        );
      } else wanted.push(entry);
    }
    const blobs = await mapWithConcurrency(wanted, this.concurrency, (entry) => this.blob(entry.sha));
    const tree = new Map(wanted.map((entry, index) => [entry.path, blobs[index] as Uint8Array]));
    return { sha, tree, problems };
  }

  /** Only the named files at a commit (those that exist there as regular files). */
  async files(sha: string, paths: Iterable<string>): Promise<Map<string, Uint8Array>> {
    const wanted = new Set(paths);
    const listing = await this.listing(sha);
    const entries = listing.entries.filter(
      (entry) => wanted.has(entry.path) && entry.type === 'blob' && REGULAR_FILE_MODES.has(entry.mode),
    );
    const blobs = await mapWithConcurrency(entries, this.concurrency, (entry) => this.blob(entry.sha));
    return new Map(entries.map((entry, index) => [entry.path, blobs[index] as Uint8Array]));
  }

  private blob(sha: string): Promise<Uint8Array> {
    return this.cache.blob(sha, async () => {
      const bytes = await this.github.getBlob(sha);
      const actual = contentId(bytes);
      if (actual !== sha) throw new BlobMismatchError(sha, actual);
      return bytes;
    });
  }
}

function unreadableReason(entry: TreeEntry): string | undefined {
  if (entry.type === 'commit') return 'submodule';
  if (entry.mode === '120000') return 'symbolic link';
  if (!REGULAR_FILE_MODES.has(entry.mode)) return `not a regular file (mode ${entry.mode})`;
  return undefined;
}
