import { contentId, encodeEnvironmentManifest, type HeldSnapshot } from '../core/index.js';
import type { ChangeInfo } from './change-info.js';
import { decodeFileValue, type FileValueResult } from './file-value.js';

/** One file of a snapshot; its value is parsed on first use and then shared. */
interface SnapshotFile {
  readonly bytes: Uint8Array;
  readonly contentId: string;
  parsed: FileValueResult | undefined;
}

/**
 * The files of one service in one environment at one commit: what a client serves. Immutable; a new
 * commit makes a new snapshot, which reuses the parsed values of files whose content did not change.
 */
export class ConfigSnapshot {
  readonly change: ChangeInfo;
  private readonly entries: ReadonlyMap<string, SnapshotFile>;
  private heldSnapshot: HeldSnapshot | undefined;

  private constructor(change: ChangeInfo, entries: ReadonlyMap<string, SnapshotFile>) {
    this.change = change;
    this.entries = entries;
  }

  /**
   * `contentIds`, when given, are the files' ids as already checked by whoever read them (content
   * read from ZooKeeper is verified against its name), so they are not hashed again.
   * `previous` lends the parsed values of files whose content did not change.
   */
  static of(
    change: ChangeInfo,
    files: ReadonlyMap<string, Uint8Array>,
    { previous, contentIds }: { previous?: ConfigSnapshot; contentIds?: ReadonlyMap<string, string> } = {},
  ): ConfigSnapshot {
    const entries = new Map<string, SnapshotFile>();
    for (const file of [...files.keys()].sort()) {
      const bytes = files.get(file) as Uint8Array;
      const id = contentIds?.get(file) ?? contentId(bytes);
      const before = previous?.entries.get(file);
      entries.set(
        file,
        before && before.contentId === id ? before : { bytes, contentId: id, parsed: undefined },
      );
    }
    return new ConfigSnapshot(change, entries);
  }

  get commit(): string {
    return this.change.commit;
  }

  /** File paths, sorted. */
  files(): string[] {
    return [...this.entries.keys()];
  }

  has(file: string): boolean {
    return this.entries.has(file);
  }

  bytes(file: string): Uint8Array | undefined {
    return this.entries.get(file)?.bytes;
  }

  /** The file's parsed value, or why it cannot be parsed; undefined when there is no such file. */
  value(file: string): FileValueResult | undefined {
    const entry = this.entries.get(file);
    if (!entry) return undefined;
    entry.parsed ??= decodeFileValue(file, entry.bytes);
    return entry.parsed;
  }

  /** Whether `other` is the same commit with the same files. */
  sameAs(other: ConfigSnapshot): boolean {
    if (other.commit !== this.commit || other.entries.size !== this.entries.size) return false;
    for (const [file, entry] of this.entries)
      if (other.entries.get(file)?.contentId !== entry.contentId) return false;
    return true;
  }

  /** Path → content id: what diffing two snapshots compares. */
  contentIds(): Map<string, string> {
    return new Map([...this.entries].map(([file, entry]) => [file, entry.contentId]));
  }

  /** Content id → bytes: what a read of the next commit need not fetch again. */
  contentsById(): Map<string, Uint8Array> {
    return new Map([...this.entries.values()].map((entry) => [entry.contentId, entry.bytes]));
  }

  /**
   * The snapshot as a reader of ZooKeeper holds it, with the manifest that names exactly these
   * files: manifests are canonical, so the syncer's manifest of the same files has the same id, and a
   * pointer naming it confirms the snapshot whole. The ids are the files' own (hashed, or verified
   * against their names when read), so a cache whose bytes were changed is never confirmed.
   */
  held(): HeldSnapshot {
    if (!this.heldSnapshot) {
      const contentIds = this.contentIds();
      const manifestBytes = encodeEnvironmentManifest({ files: contentIds });
      this.heldSnapshot = {
        manifest: contentId(manifestBytes),
        manifestBytes,
        files: this.fileBytes(),
        contentIds,
      };
    }
    return this.heldSnapshot;
  }

  /** Path → bytes: for the cache. */
  fileBytes(): Map<string, Uint8Array> {
    return new Map([...this.entries].map(([file, entry]) => [file, entry.bytes]));
  }
}
