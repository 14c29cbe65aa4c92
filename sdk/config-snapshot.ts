import { contentId, encodeEnvironmentManifest, type HeldSnapshot } from '../core/index.js';
import type { ChangeInfo } from './change-info.js';
import { decodeFileValue, type FileValueResult } from './file-value.js';

/** One file of a snapshot; its value is parsed on first use and then shared. */
interface SnapshotFile {
  readonly bytes: Uint8Array;
  readonly contentId: string;
  parsed: FileValueResult | undefined;
  /** Known to parse: it did when a snapshot holding it was applied (a cache holds only those). */
  readonly checked: boolean;
}

/**
 * The files of one service in one environment at one commit: what a client serves. Immutable; a new
 * commit makes a new snapshot, which reuses the parsed values of files whose content did not change.
 */
export class ConfigSnapshot {
  readonly change: ChangeInfo;
  private readonly entries: ReadonlyMap<string, SnapshotFile>;
  private readonly manifestId: string | undefined;
  private heldSnapshot: HeldSnapshot | undefined;

  private constructor(
    change: ChangeInfo,
    entries: ReadonlyMap<string, SnapshotFile>,
    manifestId: string | undefined,
  ) {
    this.change = change;
    this.entries = entries;
    this.manifestId = manifestId;
  }

  /**
   * `contentIds`, when given, are the files' ids as already checked by whoever read them (content
   * read from ZooKeeper is verified against its name, a cache's ids by its checksum), so they are
   * not hashed again; `manifest` likewise is the id of the manifest naming exactly these files.
   * `checked`: every file is known to parse (a cache holds only applied snapshots), so it is parsed
   * on first use rather than at once. `previous` lends the parsed values of files whose content did
   * not change.
   */
  static of(
    change: ChangeInfo,
    files: ReadonlyMap<string, Uint8Array>,
    {
      previous,
      contentIds,
      manifest,
      checked = false,
    }: {
      previous?: ConfigSnapshot | undefined;
      contentIds?: ReadonlyMap<string, string> | undefined;
      manifest?: string | undefined;
      checked?: boolean;
    } = {},
  ): ConfigSnapshot {
    const entries = new Map<string, SnapshotFile>();
    for (const file of [...files.keys()].sort()) {
      const bytes = files.get(file) as Uint8Array;
      const id = contentIds?.get(file) ?? contentId(bytes);
      const before = previous?.entries.get(file);
      entries.set(
        file,
        before && before.contentId === id ? before : { bytes, contentId: id, parsed: undefined, checked },
      );
    }
    return new ConfigSnapshot(change, entries, manifest);
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

  /** Files not yet known to parse: what a whole-snapshot check must parse. */
  uncheckedFiles(): string[] {
    const files: string[] = [];
    for (const [file, entry] of this.entries) if (!entry.checked && !entry.parsed?.ok) files.push(file);
    return files;
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
    const ids = new Map<string, string>();
    for (const [file, entry] of this.entries) ids.set(file, entry.contentId);
    return ids;
  }

  /** Content id → bytes: what a read of the next commit need not fetch again. */
  contentsById(): Map<string, Uint8Array> {
    const contents = new Map<string, Uint8Array>();
    for (const entry of this.entries.values()) contents.set(entry.contentId, entry.bytes);
    return contents;
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
      // A manifest id recorded with the files (ZooKeeper's pointer, the cache) spares encoding thousands of entries.
      const manifestBytes =
        this.manifestId === undefined ? encodeEnvironmentManifest({ files: contentIds }) : undefined;
      this.heldSnapshot = {
        manifest: this.manifestId ?? contentId(manifestBytes as Uint8Array),
        ...(manifestBytes ? { manifestBytes } : {}),
        files: this.fileBytes(),
        contentIds,
      };
    }
    return this.heldSnapshot;
  }

  /** The held snapshot's manifest id: for the cache, which records it. */
  manifest(): string {
    return this.held().manifest;
  }

  /** Path → bytes: for the cache. */
  fileBytes(): Map<string, Uint8Array> {
    const files = new Map<string, Uint8Array>();
    for (const [file, entry] of this.entries) files.set(file, entry.bytes);
    return files;
  }
}
