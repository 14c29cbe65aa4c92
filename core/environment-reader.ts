import { contentId } from './content-id.js';
import { CairnError } from './errors.js';
import { mapWithConcurrency } from './map-with-concurrency.js';
import { decodeEnvironmentManifest, type EnvironmentManifest } from './records/environment-manifest.js';
import {
  decodeEnvironmentPointer,
  type EnvironmentPointer,
  type SnapshotRef,
} from './records/environment-pointer.js';
import { decodeHeadRecord } from './records/head-record.js';
import { decodeHostAssignmentRecord, type HostAssignmentRecord } from './records/host-assignment-record.js';
import type { Revision } from './records/revision.js';
import { sharedContent } from './shared-content.js';
import type { ZkLayout } from './zk-layout.js';
import { ZkError } from './zookeeper/zk-error.js';
import type { ZkSession, ZkWatcher } from './zookeeper/zk-session.js';
import type { ZkStat } from './zookeeper/zk-stat.js';

/** One environment's files at one revision, read through its pointer. */
export interface EnvironmentSnapshot {
  /**
   * The pointer as this reader serves it: while the environment's configuration rides a rollout, its
   * `manifest` and `revision` are those of the host's assignment (or the baseline), not the newest.
   */
  readonly pointer: EnvironmentPointer;
  /** The pointer node's stat: `mzxid` orders snapshots (a lagging server can show an older one). */
  readonly stat: ZkStat;
  /** Where the snapshot served comes from: the pointer itself, or, during a rollout, the host's assignment or the baseline. */
  readonly served: 'pointer' | 'assignment' | 'baseline';
  /** The host assignment's stat, when one was read: an assignment moves without the pointer moving. */
  readonly assignmentStat?: ZkStat;
  /** Path → bytes. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  /** Path → content id. */
  readonly contentIds: ReadonlyMap<string, string>;
  /**
   * The manifest's bytes (content `pointer.manifest`), for readers that keep content by id; absent
   * when a held snapshot was confirmed that knew its manifest's id alone.
   */
  readonly manifestBytes?: Uint8Array;
}

export type EnvironmentRead =
  | { readonly kind: 'snapshot'; readonly snapshot: EnvironmentSnapshot }
  /**
   * ZooKeeper has no pointer for the environment. `mirrored` says whether anything is mirrored at all;
   * when it is, `revision` is the branch head that `/head` names (the commit without the environment).
   */
  | { readonly kind: 'absent'; readonly mirrored: boolean; readonly revision?: Revision };

export interface ReadEnvironmentOptions {
  /** Set on the pointer (or, while it does not exist, on its creation): fires once, at the next change. */
  readonly watch?: ZkWatcher;
  /** Content the reader already holds, by content id: not read again (read only after the held check). */
  readonly known?: ReadonlyMap<string, Uint8Array> | undefined;
  /**
   * A whole snapshot the reader holds (its last read, or a cache it started from): when the pointer
   * names the same manifest, the pointer alone confirms it, and nothing else is read or decoded. A
   * promise (a cache still being read) is awaited once the pointer is read: the two overlap.
   */
  readonly held?: HeldSnapshot | PromiseLike<HeldSnapshot | undefined>;
  /**
   * The host the reader serves: while the environment's configuration rides a rollout, the snapshot
   * assigned to this host is read (watched too) instead of the newest one.
   */
  readonly host?: string;
}

/** The files of one environment as named by one manifest: what a pointer naming that manifest serves. */
export interface HeldSnapshot {
  /** The manifest's content id. */
  readonly manifest: string;
  readonly manifestBytes?: Uint8Array | undefined;
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly contentIds: ReadonlyMap<string, string>;
}

/** Whether `a` was read after `b` (by zxid): a lagging server can show an older pointer or assignment. */
export function isNewerSnapshot(a: EnvironmentSnapshot, b: EnvironmentSnapshot): boolean {
  return snapshotOrder(a) > snapshotOrder(b);
}

function snapshotOrder(snapshot: EnvironmentSnapshot): bigint {
  const assigned = snapshot.assignmentStat?.mzxid ?? 0n;
  return snapshot.stat.mzxid > assigned ? snapshot.stat.mzxid : assigned;
}

/**
 * Content a pointer names is missing or damaged in ZooKeeper, and the pointer did not move on. Only
 * a hand edit does that: the syncer writes content before pointers and restores what is missing.
 */
export class ContentMissingError extends CairnError {
  readonly path: string;

  constructor(path: string, reason: string) {
    super('CONTENT_MISSING', `${path}: ${reason}; the syncer restores it on its next sync`);
    this.path = path;
  }
}

/**
 * Content reads a reader keeps in flight. Enough to keep the server busy (the session sends them as
 * multiRead requests of 32); a bound, so that what each read waiting holds (its promises, its
 * deadline) does not outlive young-generation GCs: 5,000 reads at once made a connect spend more
 * time in GC than in reading.
 */
export const CONTENT_READS_IN_FLIGHT = 256;

/** A reader that loses the race with content collection this many times in a row gives up. */
const MAX_ATTEMPTS = 5;

/**
 * Reads one environment: its pointer, then the manifest and the files it names, each immutable and
 * named by its content id. A reader never sees two revisions mixed and never waits for a write in
 * progress: the syncer stages new content where nobody looks, then flips the pointer. Content that
 * is gone (collected after the pointer moved on) sends the reader back to the pointer.
 */
export async function readEnvironment(
  session: ZkSession,
  layout: ZkLayout,
  service: string,
  env: string,
  options: ReadEnvironmentOptions = {},
): Promise<EnvironmentRead> {
  const pointerPath = layout.environment(service, env);
  let watch = options.watch;
  let missing = '';
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    // Watched, its creation too while it does not exist.
    const node = await session.getWatched(pointerPath, watch);
    if (!node) {
      const head = await session.getIfExists(layout.head());
      if (!head) return { kind: 'absent', mirrored: false };
      const { commit, author, message, time } = decodeHeadRecord(head.data, layout.head());
      return { kind: 'absent', mirrored: true, revision: { commit, author, message, time } };
    }
    const pointer = decodedPointer(node.data, pointerPath);
    const assigned =
      pointer.rollout && options.host !== undefined
        ? await readAssignment(session, layout, service, env, options.host, watch)
        : undefined;
    watch = undefined;
    const served = servedSnapshotRef(pointer, options.host, assigned?.record);
    // A snapshot held whole is confirmed by the manifest id alone: nothing else read or decoded.
    const holding = await options.held;
    const held = holding?.manifest === served.ref.manifest ? holding : undefined;
    const read = held
      ? {
          snapshot: {
            files: held.files,
            contentIds: held.contentIds,
            ...(held.manifestBytes ? { manifestBytes: held.manifestBytes } : {}),
          },
        }
      : await readContents(session, layout, served.ref.manifest, options);
    if ('snapshot' in read) {
      const { files } = read.snapshot;
      const effective: EnvironmentPointer =
        served.source === 'pointer'
          ? pointer
          : {
              ...pointer,
              manifest: served.ref.manifest,
              revision: served.ref.revision,
              files: files.size,
              bytes: totalBytes(files),
            };
      return {
        kind: 'snapshot',
        snapshot: {
          pointer: effective,
          stat: node.stat,
          served: served.source,
          ...(assigned?.stat ? { assignmentStat: assigned.stat } : {}),
          ...read.snapshot,
        },
      };
    }
    missing = read.missing;
    const now = await session.exists(pointerPath);
    if (now?.mzxid === node.stat.mzxid)
      throw new ContentMissingError(missing, `content that ${pointerPath} names is missing or damaged`);
  }
  throw new ContentMissingError(
    missing,
    `the pointer ${pointerPath} moved on ${MAX_ATTEMPTS} times while it was read; is content collected too early?`,
  );
}

/**
 * Which snapshot `host` serves of an environment: during a rollout of its configuration (the pointer
 * has `rollout`), the host's assignment, else the baseline (the snapshot before the change); at any
 * other time, or for a reader on no particular host, the pointer's own.
 */
export function servedSnapshotRef(
  pointer: EnvironmentPointer,
  host: string | undefined,
  assignment: SnapshotRef | undefined,
): { readonly source: EnvironmentSnapshot['served']; readonly ref: SnapshotRef } {
  if (!pointer.rollout || host === undefined) return { source: 'pointer', ref: pointer };
  if (assignment) return { source: 'assignment', ref: assignment };
  if (pointer.rollout.baseline) return { source: 'baseline', ref: pointer.rollout.baseline };
  return { source: 'pointer', ref: pointer };
}

/** The host's assignment, watched (its creation too, while it does not exist). */
async function readAssignment(
  session: ZkSession,
  layout: ZkLayout,
  service: string,
  env: string,
  host: string,
  watch: ZkWatcher | undefined,
): Promise<{ record?: HostAssignmentRecord; stat?: ZkStat }> {
  const path = layout.assignment(service, env, host);
  const node = await session.getWatched(path, watch);
  return node ? { record: decodeHostAssignmentRecord(node.data, path), stat: node.stat } : {};
}

async function readContents(
  session: ZkSession,
  layout: ZkLayout,
  manifestId: string,
  options: ReadEnvironmentOptions,
): Promise<
  | {
      snapshot: {
        files: ReadonlyMap<string, Uint8Array>;
        contentIds: ReadonlyMap<string, string>;
        manifestBytes: Uint8Array;
      };
    }
  | { missing: string }
> {
  // What the reader holds is looked at only for content no reader of the process holds or is
  // reading: a reader may build it from thousands of entries.
  let looked: { readonly known: ReadonlyMap<string, Uint8Array> | undefined } | undefined;
  const held = () => {
    looked ??= { known: options.known };
    return looked.known;
  };
  const manifestBytes = await readContent(session, layout, manifestId, held);
  if (!manifestBytes) return { missing: layout.content(manifestId) };
  const manifest = decodedManifest(manifestBytes, layout.content(manifestId));
  let missing = '';
  // Readers of the process that wake together for one manifest assemble its files once.
  const files = await sharedContent.assembleFiles(manifestId, async () => {
    const entries = [...manifest.files];
    const bytes = await mapWithConcurrency(entries, CONTENT_READS_IN_FLIGHT, ([, id]) =>
      readContent(session, layout, id, held),
    );
    const assembled = new Map<string, Uint8Array>();
    for (let i = 0; i < entries.length; i++) {
      const [path, id] = entries[i] as [string, string];
      const content = bytes[i];
      if (!content) {
        missing = layout.content(id);
        return undefined;
      }
      assembled.set(path, content);
    }
    return assembled;
  });
  if (!files) return { missing };
  sharedContent.keep(manifestId, manifestBytes);
  return { snapshot: { files, contentIds: manifest.files, manifestBytes } };
}

/** The pointer last decoded at each path, with its bytes: the clients of a process that wake for one change decode it once. */
const pointers = new Map<string, { readonly data: Uint8Array; readonly pointer: EnvironmentPointer }>();

function decodedPointer(data: Uint8Array, path: string): EnvironmentPointer {
  const last = pointers.get(path);
  if (last && Buffer.compare(last.data, data) === 0) return last.pointer;
  const pointer = decodeEnvironmentPointer(data, path);
  pointers.set(path, { data, pointer });
  return pointer;
}

/** Manifests decoded, by their bytes: readers that share the bytes (sharedContent) share the decoding. */
const manifests = new WeakMap<Uint8Array, EnvironmentManifest>();

function decodedManifest(bytes: Uint8Array, path: string): EnvironmentManifest {
  let manifest = manifests.get(bytes);
  if (!manifest) {
    manifest = decodeEnvironmentManifest(bytes, path);
    manifests.set(bytes, manifest);
  }
  return manifest;
}

/**
 * A content node's bytes, or undefined when it is gone or does not match its id. Content another
 * reader of the process holds (or is reading) or this one holds (`known`) is not read again.
 */
async function readContent(
  session: ZkSession,
  layout: ZkLayout,
  id: string,
  known: () => ReadonlyMap<string, Uint8Array> | undefined,
): Promise<Uint8Array | undefined> {
  return sharedContent.read(id, async () => {
    const held = known()?.get(id);
    if (held) return held;
    try {
      const { data } = await session.get(layout.content(id));
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return contentId(bytes) === id ? bytes : undefined;
    } catch (error) {
      if (error instanceof ZkError && error.code === 'NO_NODE') return undefined;
      throw error;
    }
  });
}

function totalBytes(files: ReadonlyMap<string, Uint8Array>): number {
  let bytes = 0;
  for (const content of files.values()) bytes += content.length;
  return bytes;
}
