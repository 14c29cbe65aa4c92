import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CoalescingTrigger, removeStaleTempFiles } from '../core/index.js';
import {
  bodyUnderChecksum,
  type CachedSnapshot,
  decodeCacheFile,
  decodeCacheIndexEarly,
  encodeCacheFile,
  type UncheckedCacheFile,
} from './cache-file.js';
import { SdkWarning } from './errors.js';
import { type HashedFile, readHashingBody } from './hashing-file-read.js';

/**
 * Cache files encoded, by what the snapshot is (the caller's object for it) and service@env: the
 * clients of a process that serve one snapshot encode and hash its file once.
 */
const encodedFiles = new WeakMap<object, Map<string, Uint8Array>>();

/**
 * The temp files this process is writing, by path: another cache of the same service@env in this
 * process (several clients of one service) must not take one for a dead process's.
 */
const tempFilesBeingWritten = new Set<string>();

export type CacheReadResult =
  | { readonly kind: 'hit'; readonly snapshot: CachedSnapshot }
  | { readonly kind: 'missing' }
  | { readonly kind: 'corrupt' | 'unreadable'; readonly reason: string };

/**
 * The last good snapshot of one environment on local disk, so a service can start while ZooKeeper
 * is down. Writes go to a temp file that is fsynced and renamed over the old one: a crash leaves the
 * old file or the new one, never a mix. Writes queue behind each other and collapse to the newest.
 * Nothing here throws at the service: failures become warnings and the service keeps running.
 */
export class SnapshotCache {
  readonly dir: string;
  readonly path: string;
  private readonly service: string;
  private readonly env: string;
  private readonly warn: (warning: SdkWarning) => void;
  private readonly trigger: CoalescingTrigger;
  private pending: { readonly snapshot: CachedSnapshot; readonly identity: object | undefined } | undefined;
  /** The directory was there at the last write: a write per commit need not ask again. */
  private dirMade = false;

  constructor(dir: string, service: string, env: string, warn: (warning: SdkWarning) => void) {
    this.dir = dir;
    this.service = service;
    this.env = env;
    this.path = join(dir, `${service}@${env}.cairn-cache`);
    this.warn = warn;
    this.trigger = new CoalescingTrigger(() => this.writePending(), {
      onError: (error, failures) => {
        // Report the first failure of a run, not every write of a service on a read-only disk.
        if (failures === 1)
          this.warn(
            new SdkWarning(
              'CACHE_UNWRITABLE',
              `cannot write the configuration cache ${this.path}: ${(error as Error).message}; the service ` +
                'keeps running, but cannot start from this cache while ZooKeeper is down: make the directory writable',
              { cause: error },
            ),
          );
      },
    });
  }

  /**
   * Also removes what a killed process left of its writes for this service@env: temp files named
   * by a pid that no process has now (see tempFileOwner), never another's or a live process's.
   * The sweep runs beside the read, not before it: a connect from the cache waits for the read.
   */
  async read(): Promise<CacheReadResult> {
    // Never rejects: a folder it cannot read or a file it cannot remove is left as it is.
    const swept = removeStaleTempFiles(this.dir, this.tempFileOwner, (name) =>
      tempFilesBeingWritten.has(join(this.dir, name)),
    );
    try {
      return await this.readFile();
    } finally {
      await swept;
    }
  }

  private async readFile(): Promise<CacheReadResult> {
    const expected = { service: this.service, env: this.env };
    let read: HashedFile;
    // The index is decoded while the files' bytes after it are still read. A version 4 index carries
    // its own checksum; an older one is used only if the body's checksum, known once the whole file
    // is read, matches.
    // (Widened by `as`: it is set in the callback, which the compiler does not follow.)
    let early = 'incomplete' as UncheckedCacheFile | 'incomplete' | undefined;
    try {
      read = await readHashingBody(this.path, {
        onProgress: (bytes, filled) => {
          if (early === 'incomplete') early = decodeCacheIndexEarly(bytes, filled, expected);
        },
        hashBody: bodyUnderChecksum,
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'missing' };
      return { kind: 'unreadable', reason: (error as Error).message };
    }
    const decoded =
      typeof early === 'object' &&
      (early.bodyChecksum === undefined || read.bodySha256 === early.bodyChecksum)
        ? early.result
        : decodeCacheFile(read.bytes, expected, read.bodySha256);
    return decoded.ok
      ? { kind: 'hit', snapshot: decoded.snapshot }
      : { kind: 'corrupt', reason: decoded.reason };
  }

  /**
   * Queues a write of `snapshot`; an older queued one is dropped. A failed write is retried.
   * `identity`: an object that stands for the snapshot (immutable): writes of the same one, by any
   * cache of this service and environment in the process, share one encoding.
   */
  write(snapshot: CachedSnapshot, identity?: object): void {
    this.pending = { snapshot, identity };
    this.trigger.request();
  }

  /**
   * Finishes the queued write, then writes nothing more: a failed write's retry, scheduled for later,
   * is cancelled, and later writes are ignored, so a closed client never touches its cacheDir again.
   */
  async close(): Promise<void> {
    await this.trigger.idle();
    await this.trigger.close();
  }

  /** The pid in the name of one of this service@env's temp files (see writeNow), exactly as written. */
  private readonly tempFileOwner = (name: string): number | undefined => {
    const prefix = `.${this.service}@${this.env}.`;
    if (!name.startsWith(prefix)) return undefined;
    const match = /^([1-9][0-9]{0,9})\.[0-9a-f]{8}\.tmp$/.exec(name.slice(prefix.length));
    return match ? Number(match[1]) : undefined;
  };

  private async writePending(): Promise<void> {
    const next = this.pending;
    if (!next) return;
    await this.writeNow(next);
    // A newer snapshot queued meanwhile asked for another run; this one is done.
    if (this.pending === next) this.pending = undefined;
  }

  private encode({ snapshot, identity }: NonNullable<SnapshotCache['pending']>): Uint8Array {
    if (!identity) return encodeCacheFile(snapshot);
    const key = `${this.service}@${this.env}`;
    let files = encodedFiles.get(identity);
    let bytes = files?.get(key);
    if (!bytes) {
      bytes = encodeCacheFile(snapshot);
      if (!files) {
        files = new Map();
        encodedFiles.set(identity, files);
      }
      files.set(key, bytes);
    }
    return bytes;
  }

  private async writeNow(pending: NonNullable<SnapshotCache['pending']>): Promise<void> {
    if (!this.dirMade) await mkdir(this.dir, { recursive: true });
    // Asked again after a failure: the directory may be what went away.
    this.dirMade = false;
    const temp = join(
      this.dir,
      `.${this.service}@${this.env}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    tempFilesBeingWritten.add(temp);
    try {
      const file = await open(temp, 'w', 0o600);
      try {
        await file.writeFile(this.encode(pending));
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temp, this.path);
      this.dirMade = true;
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {
        // The temp file may never have been created; nothing else to clean.
      });
      throw error;
    } finally {
      tempFilesBeingWritten.delete(temp);
    }
    await syncDirectory(this.dir);
  }
}

/** Makes the rename durable. Some file systems refuse fsync on a directory; the rename still happened. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort: the file itself is fsynced, only the directory entry's durability is at stake.
  } finally {
    await handle?.close();
  }
}
