import { contentId, encodeEnvironmentManifest, type HeldSnapshot } from '../core/index.js';
import type { ChangeInfo } from './change-info.js';
import { diffFiles, type FileDelta } from './file-delta.js';
import { decodeFileValue, type FileValueResult } from './file-value.js';

/** One file of a snapshot; its value is parsed on first use and then shared. */
interface SnapshotFile {
  readonly bytes: Uint8Array;
  readonly contentId: string;
  parsed: FileValueResult | undefined;
  /** Known to parse: it did when a snapshot holding it was applied (a cache holds only those). */
  readonly checked: boolean;
  /**
   * Whether the bytes match the content id: 'unverified' for the files of a cache whose checksum
   * covers its index alone, until checked (on first use, or by verifyContents), then 'intact' or
   * 'damaged'. The state belongs to the bytes, so snapshots that share the entry share it.
   */
  integrity: 'intact' | 'unverified' | 'damaged';
}

/**
 * Snapshots built from ZooKeeper reads, by the files map the read gave (readers of one process share
 * it per manifest) and commit: the clients of a process that read one commit serve one snapshot,
 * built, parsed and diffed once among them.
 */
const readSnapshots = new WeakMap<ReadonlyMap<string, Uint8Array>, Map<string, ConfigSnapshot>>();

/**
 * The files of one service in one environment at one commit: what a client serves. Immutable; a new
 * commit makes a new snapshot, which reuses the parsed values of files whose content did not change.
 * What is derived from it (maps of ids and bytes, the difference from another snapshot) is computed
 * once and shared by every client serving it.
 */
export class ConfigSnapshot {
  readonly change: ChangeInfo;
  private readonly entries: ReadonlyMap<string, SnapshotFile>;
  private readonly manifestId: string | undefined;
  private heldSnapshot: HeldSnapshot | undefined;
  private ids: ReadonlyMap<string, string> | undefined;
  private bytesByPath: ReadonlyMap<string, Uint8Array> | undefined;
  private bytesById: ReadonlyMap<string, Uint8Array> | undefined;
  private readonly deltas = new WeakMap<ConfigSnapshot, readonly FileDelta[]>();
  /** Some entry was 'unverified' when the snapshot was built: its bytes may not be lent before a check. */
  private readonly mayHoldUnverified: boolean;

  private constructor(
    change: ChangeInfo,
    entries: ReadonlyMap<string, SnapshotFile>,
    manifestId: string | undefined,
  ) {
    this.change = change;
    this.entries = entries;
    this.manifestId = manifestId;
    let unverified = false;
    for (const entry of entries.values())
      if (entry.integrity !== 'intact') {
        unverified = true;
        break;
      }
    this.mayHoldUnverified = unverified;
  }

  /**
   * `contentIds`, when given, are the files' ids as already checked by whoever read them (content
   * read from ZooKeeper is verified against its name, a cache's ids by its checksum), so they are
   * not hashed again; `manifest` likewise is the id of the manifest naming exactly these files.
   * `checked`: every file is known to parse (a cache holds only applied snapshots), so it is parsed
   * on first use rather than at once. `unverified`: the bytes are not known to match the ids given
   * (a cache that checksums its index alone): each file is checked on first use, and none is lent
   * to a reader before verifyContents. `previous` lends the parsed values of files whose content
   * did not change (never a file whose bytes failed their id).
   */
  static of(
    change: ChangeInfo,
    files: ReadonlyMap<string, Uint8Array>,
    {
      previous,
      contentIds,
      manifest,
      checked = false,
      unverified = false,
    }: {
      previous?: ConfigSnapshot | undefined;
      contentIds?: ReadonlyMap<string, string> | undefined;
      manifest?: string | undefined;
      checked?: boolean;
      unverified?: boolean;
    } = {},
  ): ConfigSnapshot {
    const entries = new Map<string, SnapshotFile>();
    // Ids hashed here match their bytes by construction.
    const integrity = unverified && contentIds ? 'unverified' : 'intact';
    // Caches and manifests list their files sorted already: then the maps given are the snapshot's own.
    const sorted = isSorted(files.keys()) && contentIds?.size === files.size && isSorted(contentIds.keys());
    let idsGiven = sorted;
    for (const file of sorted ? files.keys() : [...files.keys()].sort()) {
      const bytes = files.get(file) as Uint8Array;
      const given = contentIds?.get(file);
      if (given === undefined) idsGiven = false;
      const id = given ?? contentId(bytes);
      const before = previous?.entries.get(file);
      entries.set(
        file,
        before && before.contentId === id && before.integrity !== 'damaged'
          ? before
          : { bytes, contentId: id, parsed: undefined, checked, integrity: given ? integrity : 'intact' },
      );
    }
    const snapshot = new ConfigSnapshot(change, entries, manifest);
    if (idsGiven) {
      snapshot.ids = contentIds;
      snapshot.bytesByPath = files;
    }
    return snapshot;
  }

  /** The same files at another commit (one that did not change them): the entries and what derives from them are shared. */
  at(change: ChangeInfo): ConfigSnapshot {
    if (change.commit === this.commit) return this;
    const snapshot = new ConfigSnapshot(change, this.entries, this.manifestId);
    snapshot.ids = this.ids;
    snapshot.bytesByPath = this.bytesByPath;
    snapshot.bytesById = this.bytesById;
    snapshot.heldSnapshot = this.heldSnapshot;
    return snapshot;
  }

  /**
   * The snapshot of a ZooKeeper read (files checked against their ids, `manifest` naming exactly
   * them): the same object for every read of the process that gave the same files map at the same
   * commit. `previous` lends parsed values to the first of them.
   */
  static ofRead(
    change: ChangeInfo,
    files: ReadonlyMap<string, Uint8Array>,
    {
      contentIds,
      manifest,
      previous,
    }: {
      contentIds: ReadonlyMap<string, string>;
      manifest: string;
      previous?: ConfigSnapshot | undefined;
    },
  ): ConfigSnapshot {
    let byCommit = readSnapshots.get(files);
    const known = byCommit?.get(change.commit);
    if (known && known.manifestId === manifest) return known;
    const snapshot = ConfigSnapshot.of(change, files, { contentIds, manifest, previous });
    if (!byCommit) {
      byCommit = new Map();
      readSnapshots.set(files, byCommit);
    }
    byCommit.set(change.commit, snapshot);
    return snapshot;
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

  /** The file's bytes; undefined when there is no such file, or its bytes failed their id (see damaged). */
  bytes(file: string): Uint8Array | undefined {
    const entry = this.entries.get(file);
    return entry && verified(entry) ? entry.bytes : undefined;
  }

  /**
   * The file's parsed value, or why it cannot be parsed (or served: its bytes failed their id);
   * undefined when there is no such file.
   */
  value(file: string): FileValueResult | undefined {
    const entry = this.entries.get(file);
    if (!entry) return undefined;
    if (!verified(entry))
      return {
        ok: false,
        reason: `the cached bytes of ${file} do not match its content id ${entry.contentId}`,
      };
    entry.parsed ??= decodeFileValue(file, entry.bytes);
    return entry.parsed;
  }

  /** Whether the file's bytes are known to fail their content id (checking them now if not yet). */
  damaged(file: string): boolean {
    const entry = this.entries.get(file);
    return entry !== undefined && !verified(entry);
  }

  /** Files whose bytes are not yet checked against their ids (a cache's, at start). */
  unverifiedFiles(): string[] {
    const files: string[] = [];
    if (!this.mayHoldUnverified) return files;
    for (const [file, entry] of this.entries) if (entry.integrity === 'unverified') files.push(file);
    return files;
  }

  /** Checks every file's bytes not yet checked against its id; returns the files that fail, sorted. */
  verifyContents(): string[] {
    const damaged: string[] = [];
    if (!this.mayHoldUnverified) return damaged;
    for (const [file, entry] of this.entries) if (!verified(entry)) damaged.push(file);
    return damaged;
  }

  /** Whether any file's bytes are known to fail their id (without checking more of them). */
  hasDamage(): boolean {
    if (!this.mayHoldUnverified) return false;
    for (const entry of this.entries.values()) if (entry.integrity === 'damaged') return true;
    return false;
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
    if (other.entries === this.entries) return true;
    for (const [file, entry] of this.entries)
      if (other.entries.get(file)?.contentId !== entry.contentId) return false;
    return true;
  }

  /** Path → content id: what diffing two snapshots compares. */
  contentIds(): ReadonlyMap<string, string> {
    if (!this.ids) {
      const ids = new Map<string, string>();
      for (const [file, entry] of this.entries) ids.set(file, entry.contentId);
      this.ids = ids;
    }
    return this.ids;
  }

  /**
   * Content id → bytes: what a read of the next commit need not fetch again. Lent to other readers,
   * so every file is checked first, and one whose bytes fail their id is left out (read again).
   */
  contentsById(): ReadonlyMap<string, Uint8Array> {
    if (!this.bytesById) {
      const contents = new Map<string, Uint8Array>();
      for (const entry of this.entries.values())
        if (verified(entry)) contents.set(entry.contentId, entry.bytes);
      this.bytesById = contents;
    }
    return this.bytesById;
  }

  /** The files that differ from `previous` to this snapshot, sorted by path; computed once per pair. */
  changesFrom(previous: ConfigSnapshot): readonly FileDelta[] {
    let deltas = this.deltas.get(previous);
    if (!deltas) {
      deltas = diffFiles(previous.contentIds(), this.contentIds());
      this.deltas.set(previous, deltas);
    }
    return deltas;
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

  /**
   * Path → bytes: for the cache, and to tell the snapshot a read confirmed. Not checked here: a
   * snapshot with unverified files is checked (verifyContents) before it is written.
   */
  fileBytes(): ReadonlyMap<string, Uint8Array> {
    if (!this.bytesByPath) {
      const files = new Map<string, Uint8Array>();
      for (const [file, entry] of this.entries) files.set(file, entry.bytes);
      this.bytesByPath = files;
    }
    return this.bytesByPath;
  }
}

/** Checks an unverified entry's bytes against its id, once; true when they match. */
function verified(entry: SnapshotFile): boolean {
  if (entry.integrity === 'unverified')
    entry.integrity = contentId(entry.bytes) === entry.contentId ? 'intact' : 'damaged';
  return entry.integrity === 'intact';
}

function isSorted(keys: Iterable<string>): boolean {
  let last: string | undefined;
  for (const key of keys) {
    if (last !== undefined && !(last < key)) return false;
    last = key;
  }
  return true;
}
