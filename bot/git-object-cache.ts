import type { TreeListing } from './github.js';

/**
 * Git objects the bot has already fetched, shared by every event an app instance handles. A blob's id
 * is the hash of its content, so a cached blob is correct for any repository whose tree lists that id:
 * unchanged files between a pull request's base and head, or between two pushes, are fetched once.
 * Lookups in flight are shared too, so concurrent handlers of one event never fetch the same object
 * twice. Blobs are bounded by total bytes, tree listings by count; the least recently used go first.
 */
export class GitObjectCache {
  private readonly blobs = new Map<string, Promise<Uint8Array>>();
  private readonly blobSizes = new Map<string, number>();
  private blobBytes = 0;
  private readonly trees = new Map<string, Promise<TreeListing>>();
  private readonly commitTrees = new Map<string, Promise<string>>();

  constructor(
    private readonly maxBlobBytes: number,
    private readonly maxTrees = 32,
    private readonly maxCommitTrees = 1024,
  ) {}

  blob(sha: string, fetch: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const cached = this.blobs.get(sha);
    if (cached) {
      this.blobs.delete(sha);
      this.blobs.set(sha, cached);
      return cached;
    }
    const pending = fetch().then(
      (bytes) => {
        this.admitBlob(sha, bytes.length);
        return bytes;
      },
      (error: unknown) => {
        // A failed fetch must not poison the cache: the next event tries again.
        this.blobs.delete(sha);
        throw error;
      },
    );
    this.blobs.set(sha, pending);
    return pending;
  }

  /** Listings are keyed by repository too: a commit id alone does not say which repository asked. */
  tree(key: string, fetch: () => Promise<TreeListing>): Promise<TreeListing> {
    return remember(this.trees, this.maxTrees, key, fetch);
  }

  /** The tree id of a commit (a few bytes each, so many are kept), keyed like `tree`. */
  commitTree(key: string, fetch: () => Promise<string>): Promise<string> {
    return remember(this.commitTrees, this.maxCommitTrees, key, fetch);
  }

  private admitBlob(sha: string, size: number): void {
    if (!this.blobs.has(sha)) return;
    if (size > this.maxBlobBytes) {
      this.blobs.delete(sha);
      return;
    }
    this.blobSizes.set(sha, size);
    this.blobBytes += size;
    for (const oldest of this.blobs.keys()) {
      if (this.blobBytes <= this.maxBlobBytes) break;
      const oldestSize = this.blobSizes.get(oldest);
      // Still in flight: its size is unknown and it is about to be used; keep it.
      if (oldestSize === undefined) continue;
      this.blobs.delete(oldest);
      this.blobSizes.delete(oldest);
      this.blobBytes -= oldestSize;
    }
  }
}

/** A lookup kept in a map bounded by count, least recently used first out; failures are not kept. */
function remember<T>(
  entries: Map<string, Promise<T>>,
  max: number,
  key: string,
  fetch: () => Promise<T>,
): Promise<T> {
  const cached = entries.get(key);
  if (cached) {
    entries.delete(key);
    entries.set(key, cached);
    return cached;
  }
  const pending = fetch().catch((error: unknown) => {
    entries.delete(key);
    throw error;
  });
  entries.set(key, pending);
  while (entries.size > max) {
    const oldest = entries.keys().next().value as string;
    entries.delete(oldest);
  }
  return pending;
}
