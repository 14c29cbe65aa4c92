import { type DesiredEnvironment, type DesiredState, environmentKey } from './desired-state.js';
import { type EnvironmentPointer, encodeEnvironmentPointer } from './records/environment-pointer.js';
import type { SnapshotChange } from './records/history-record.js';
import type { Revision } from './records/revision.js';
import type { ZkLayout } from './zk-layout.js';
import type { ZkOp } from './zookeeper/zk-client.js';

/** An environment pointer as ZooKeeper holds it. */
export interface PublishedEnvironment {
  readonly service: string;
  readonly env: string;
  /** The manifest it names; undefined when the node does not hold a readable pointer. */
  readonly manifestId: string | undefined;
  /** The revision it names (a readable pointer's). */
  readonly revision?: Revision;
  /** Its `rollout`: present while the environment's configuration rides the release's rollout. */
  readonly rollout?: EnvironmentPointer['rollout'];
}

/** What ZooKeeper holds of a repository's mirror, as the syncer reads it back. */
export interface PublishedState {
  /** By `environmentKey(service, env)`. */
  readonly environments: ReadonlyMap<string, PublishedEnvironment>;
  /** Service records as stored, by service. */
  readonly services: ReadonlyMap<string, Uint8Array>;
  /** Release records as stored, by `environmentKey(service, env)`. */
  readonly releases: ReadonlyMap<string, Uint8Array>;
  /** Services that have a folder under /config, and under /releases (possibly empty). */
  readonly configFolders: ReadonlySet<string>;
  readonly releaseFolders: ReadonlySet<string>;
  /** Ids of the content nodes that exist. */
  readonly contents: ReadonlySet<string>;
  /**
   * Manifests whose every content node is known to be in `contents`: the manifest and each file it
   * names. Planning looks at none of their files. Only a state the syncer computed after its own
   * publication has them (every manifest its pointers name); a state read from ZooKeeper has none,
   * so every file is checked there, and content deleted by hand is staged again.
   */
  readonly completeManifests?: ReadonlySet<string>;
  /**
   * Nodes in the mirror's folders that no record explains (an earlier layout's file nodes, hand-made
   * nodes), deepest first: removed before the flip.
   */
  readonly strays: readonly string[];
}

/** ZooKeeper's state before anything is published: an empty root. */
export const EMPTY_PUBLISHED_STATE: PublishedState = {
  environments: new Map(),
  services: new Map(),
  releases: new Map(),
  configFolders: new Set(),
  releaseFolders: new Set(),
  contents: new Set(),
  strays: [],
};

/** ZooKeeper's state once `desired` is published: what the bot previews a pull request against. */
export function publishedStateOf(desired: DesiredState): PublishedState {
  return {
    environments: new Map(
      [...desired.environments].map(([key, e]) => [
        key,
        {
          service: e.service,
          env: e.env,
          manifestId: e.manifestId,
          revision: e.revision,
          ...(e.configRollout || e.drains ? { rollout: {} } : {}),
        },
      ]),
    ),
    services: desired.services,
    releases: new Map([...desired.releases].map(([key, r]) => [key, r.record])),
    configFolders: servicesOf(desired.environments.keys()),
    releaseFolders: servicesOf(desired.releases.keys()),
    contents: new Set(desired.contents.keys()),
    strays: [],
  };
}

/**
 * ZooKeeper's state once `publication`, planned to reach `desired`, is done, built without looking at
 * every file: `contents` (the set of content ids ZooKeeper held, which the caller hands over and no
 * longer uses) gains what was staged, and every manifest the pointers name is complete, its files
 * being held before or staged now. Old content stays until it is collected.
 */
export function publishedStateAfter(
  desired: DesiredState,
  publication: Publication,
  contents: Set<string>,
): PublishedState & { readonly contents: Set<string> } {
  for (const id of publication.newContent) contents.add(id);
  const completeManifests = new Set<string>();
  for (const pointer of publication.pointers.values())
    if (pointer.manifestId !== undefined) completeManifests.add(pointer.manifestId);
  return {
    environments: publication.pointers,
    services: desired.services,
    releases: new Map([...desired.releases].map(([key, r]) => [key, r.record])),
    configFolders: servicesOf(desired.environments.keys()),
    releaseFolders: servicesOf(desired.releases.keys()),
    contents,
    completeManifests,
    strays: [],
  };
}

/** Counts of a kind of record a publication adds, changes and removes. */
export interface RecordChanges {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

/**
 * The writes that turn what ZooKeeper holds into the desired state, in two phases:
 *
 * - `stage`: new content nodes (and stray removals). Nobody reads them until a pointer names them,
 *   so they may take many transactions, and a crash among them leaves only unreferenced content.
 * - `flip`: every changed environment pointer, service and release record, and the folders they
 *   need or leave empty, meant for ONE transaction together with `/head` and the history record.
 *
 * An environment's pointer is rewritten only when its manifest changes: a commit to one service
 * leaves every other service's pointers, and so their readers, untouched.
 */
export interface Publication {
  readonly stage: readonly ZkOp[];
  readonly flip: readonly ZkOp[];
  readonly environments: RecordChanges;
  readonly services: RecordChanges;
  readonly releases: RecordChanges;
  /** Content ids created by `stage`. */
  readonly newContent: readonly string[];
  /** For the history record: which snapshots changed, from which manifest to which. */
  readonly snapshots: readonly SnapshotChange[];
  /** Every environment pointer as ZooKeeper holds it once the flip is done. */
  readonly pointers: ReadonlyMap<string, PublishedEnvironment>;
}

export function planPublication(
  layout: ZkLayout,
  published: PublishedState,
  desired: DesiredState,
): Publication {
  // In the model's order (service, environment, path): deterministic, and what a file's neighbours are.
  const stage: ZkOp[] = published.strays.map((path): ZkOp => ({ op: 'remove', path }));
  const newContent = missingContent(published, desired);
  for (const [id, data] of newContent) stage.push({ op: 'create', path: layout.content(id), data });

  // What each pointer says once published: a configuration riding a rollout keeps the hosts it has
  // not reached on the snapshot they served (the baseline), in the same flip that moves the pointer.
  const pointers = new Map<string, PublishedEnvironment>();
  for (const [key, e] of desired.environments) {
    const rollout = rolloutAfter(published.environments.get(key), e);
    pointers.set(key, {
      service: e.service,
      env: e.env,
      manifestId: e.manifestId,
      revision: e.revision,
      ...(rollout ? { rollout } : {}),
    });
  }
  const environments = compare(
    published.environments,
    pointers,
    (a, b) => a.manifestId === b.manifestId && sameRollout(a.rollout, b.rollout),
  );
  const services = compare(published.services, desired.services, sameBytes);
  const releases = compare(
    published.releases,
    new Map([...desired.releases].map(([key, r]) => [key, r.record])),
    sameBytes,
  );

  // Folders: /config/<service> holds a service's pointers, /releases/<service> its release records.
  const configFolders = folderChanges(published.configFolders, servicesOf(desired.environments.keys()));
  const releaseFolders = folderChanges(published.releaseFolders, servicesOf(desired.releases.keys()));

  const flip: ZkOp[] = [];
  for (const service of configFolders.created)
    flip.push({ op: 'create', path: layout.configService(service) });
  for (const service of releaseFolders.created)
    flip.push({ op: 'create', path: layout.releaseService(service) });
  const pointer = (key: string) => {
    const e = desired.environments.get(key)!;
    const rollout = pointers.get(key)?.rollout;
    return {
      path: layout.environment(e.service, e.env),
      data: encodeEnvironmentPointer({
        revision: e.revision,
        manifest: e.manifestId,
        files: e.manifest.files.size,
        bytes: e.bytes,
        ...(rollout ? { rollout } : {}),
      }),
    };
  };
  for (const key of environments.added) flip.push({ op: 'create', ...pointer(key) });
  for (const key of environments.changed) flip.push({ op: 'set', ...pointer(key) });
  for (const name of services.added)
    flip.push({ op: 'create', path: layout.service(name), data: desired.services.get(name)! });
  for (const name of services.changed)
    flip.push({ op: 'set', path: layout.service(name), data: desired.services.get(name)! });
  const release = (key: string) => {
    const r = desired.releases.get(key)!;
    return { path: layout.release(r.service, r.env), data: r.record };
  };
  for (const key of releases.added) flip.push({ op: 'create', ...release(key) });
  for (const key of releases.changed) flip.push({ op: 'set', ...release(key) });
  for (const key of environments.removed) {
    const e = published.environments.get(key)!;
    flip.push({ op: 'remove', path: layout.environment(e.service, e.env) });
  }
  for (const key of releases.removed) {
    const [service, env] = splitKey(key);
    flip.push({ op: 'remove', path: layout.release(service, env) });
  }
  for (const name of services.removed) flip.push({ op: 'remove', path: layout.service(name) });
  for (const service of configFolders.removed)
    flip.push({ op: 'remove', path: layout.configService(service) });
  for (const service of releaseFolders.removed)
    flip.push({ op: 'remove', path: layout.releaseService(service) });

  const snapshots: SnapshotChange[] = [];
  for (const key of [...environments.added, ...environments.changed, ...environments.removed].sort()) {
    const before = published.environments.get(key);
    const after = desired.environments.get(key);
    if (before?.manifestId === after?.manifestId) continue; // only its rollout changed
    const [service, env] = splitKey(key);
    snapshots.push({
      service,
      env,
      ...(before?.manifestId ? { from: before.manifestId } : {}),
      ...(after ? { to: after.manifestId } : {}),
    });
  }
  return {
    stage,
    flip,
    environments,
    services,
    releases,
    newContent: [...newContent.keys()],
    snapshots,
    pointers,
  };
}

/**
 * The content nodes `desired` references that `published` lacks, each once, in the environments'
 * order: what `desired.contents` filtered by `published.contents` would give. The files of a manifest
 * `published` holds complete are not looked at, so a commit to one service of a thousand checks the
 * files of the snapshot it changed, not every file of the repository.
 */
function missingContent(published: PublishedState, desired: DesiredState): Map<string, Uint8Array> {
  const missing = new Map<string, Uint8Array>();
  for (const environment of desired.environments.values()) {
    if (published.completeManifests?.has(environment.manifestId)) continue;
    for (const [id, bytes] of environment.contents)
      if (!published.contents.has(id) && !missing.has(id)) missing.set(id, bytes);
  }
  return missing;
}

/**
 * The `rollout` of an environment's pointer after publishing: none when its configuration goes live
 * at once; otherwise the baseline hosts without an assignment keep — the one it had, or, when the
 * files change now, the snapshot the pointer named until now. A new environment has nothing to keep.
 * A consumer that drains during deploys has `rollout` without a baseline: its readers follow their
 * host's assignment (the drained snapshot), and a change of its files goes live at once.
 */
function rolloutAfter(
  before: PublishedEnvironment | undefined,
  after: DesiredEnvironment,
): EnvironmentPointer['rollout'] {
  if (!after.configRollout) return after.drains ? {} : undefined;
  if (!before?.manifestId || !before.revision) return {};
  if (before.manifestId === after.manifestId) return before.rollout ?? {};
  const baseline = before.rollout?.baseline ?? { manifest: before.manifestId, revision: before.revision };
  return { baseline };
}

function sameRollout(a: EnvironmentPointer['rollout'], b: EnvironmentPointer['rollout']): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.baseline?.manifest === b.baseline?.manifest &&
    a.baseline?.revision.commit === b.baseline?.revision.commit
  );
}

/** Whether publishing changes nothing at all (the strays included). */
export function isEmptyPublication(publication: Publication): boolean {
  return publication.stage.length === 0 && publication.flip.length === 0;
}

/** The znodes a publication creates, updates and removes: what the bot's plan counts. */
export function publicationCounts(publication: Publication): {
  creates: number;
  updates: number;
  removes: number;
} {
  const ops = [...publication.stage, ...publication.flip];
  return {
    creates: ops.filter((op) => op.op === 'create').length,
    updates: ops.filter((op) => op.op === 'set').length,
    removes: ops.filter((op) => op.op === 'remove').length,
  };
}

function compare<A, B>(
  before: ReadonlyMap<string, A>,
  after: ReadonlyMap<string, B>,
  same: (a: A, b: B) => boolean,
): RecordChanges {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [key, value] of after) {
    const old = before.get(key);
    if (old === undefined) added.push(key);
    else if (!same(old, value)) changed.push(key);
  }
  for (const key of before.keys()) if (!after.has(key)) removed.push(key);
  return { added: added.sort(), changed: changed.sort(), removed: removed.sort() };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function servicesOf(keys: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const key of keys) out.add(splitKey(key)[0]);
  return out;
}

function folderChanges(before: ReadonlySet<string>, after: ReadonlySet<string>) {
  return {
    created: [...after].filter((s) => !before.has(s)).sort(),
    removed: [...before].filter((s) => !after.has(s)).sort(),
  };
}

function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

/** The key of a service's environment, as `environmentKey` makes it. */
export { environmentKey };
