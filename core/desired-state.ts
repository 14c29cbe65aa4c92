import type { ConfigRepo, Service } from './config-repo.js';
import { contentId } from './content-id.js';
import { forEachInSlices, type SliceOptions } from './event-loop-slices.js';
import type { PolicyManifest } from './manifests.js';
import { type EnvironmentManifest, encodeEnvironmentManifest } from './records/environment-manifest.js';
import { encodeReleaseRecord } from './records/release-record.js';
import type { Revision } from './records/revision.js';
import { encodeServiceRecord, serviceRecordOf } from './records/service-record.js';

/** A model of the repository at one revision. */
export interface RevisionedRepo {
  readonly repo: ConfigRepo;
  readonly revision: Revision;
}

/** The snapshot one service serves in one environment. */
export interface DesiredEnvironment {
  readonly service: string;
  readonly env: string;
  readonly manifest: EnvironmentManifest;
  /** Content id of the manifest's bytes: what the environment's pointer names. */
  readonly manifestId: string;
  /** The revision the environment serves; its pointer records it when the files change. */
  readonly revision: Revision;
  /** Total size of the files, for status displays. */
  readonly bytes: number;
  /** Its content nodes: the bytes of every file it names and of the manifest itself, by content id. */
  readonly contents: ReadonlyMap<string, Uint8Array>;
  /**
   * A change of the files rides the release's rollout: the service says `configRollout:
   * with-release` for the environment (or cairn.yaml does) and it has a release manifest there.
   */
  readonly configRollout: boolean;
  /**
   * Its hosts may be assigned a drained snapshot during deploys of the services it depends on: it
   * says `drainDuringDeploys` for the environment, and its configuration does not ride a rollout
   * (`configRollout: with-release`, whose assignments are the rollout's alone).
   */
  readonly drains: boolean;
}

/** A release manifest an environment serves. */
export interface DesiredRelease {
  readonly service: string;
  readonly env: string;
  readonly record: Uint8Array;
}

/** An environment of cairn.yaml that the state leaves out, and why. */
export interface UnservedEnvironment {
  readonly env: string;
  readonly reason: string;
}

/**
 * What ZooKeeper should hold for a repository: every environment's snapshot, the service tree, the
 * release manifests, and the content (file bytes and manifests) they reference. The syncer publishes
 * the difference between this and what ZooKeeper holds; the bot's plan previews the same difference.
 */
export interface DesiredState {
  /** By `environmentKey(service, env)`. */
  readonly environments: ReadonlyMap<string, DesiredEnvironment>;
  /** Encoded service records, by service. */
  readonly services: ReadonlyMap<string, Uint8Array>;
  /** By `environmentKey(service, env)`. */
  readonly releases: ReadonlyMap<string, DesiredRelease>;
  /**
   * Every content node the state references: file bytes and environment manifests, by content id,
   * in the environments' order. Gathered from the environments' `contents` when first read: a
   * publication planned against what the syncer wrote itself never reads it (see `planPublication`).
   */
  readonly contents: ReadonlyMap<string, Uint8Array>;
  /** The revision each environment of cairn.yaml serves; environments without one are absent. */
  readonly revisions: Readonly<Record<string, Revision>>;
  readonly unserved: readonly UnservedEnvironment[];
}

export interface DesiredStateInput {
  /** The mirrored branch: the service tree and every environment that follows this branch. */
  readonly branch: RevisionedRepo & { readonly name: string };
  /**
   * For each environment that follows release tags, the model at its newest matching tag, or
   * undefined while no tag matches.
   */
  readonly tagged: ReadonlyMap<string, RevisionedRepo | undefined>;
}

export function environmentKey(service: string, env: string): string {
  return `${service}/${env}`;
}

/**
 * The state for a branch head and the tags. The service tree (which services exist, their owners
 * and hosts) follows the branch, so adding a host needs no release; each environment's files and
 * release manifests come from the revision it follows. An environment that follows another branch
 * is not served by a syncer of this branch: it is listed in `unserved`.
 */
export function desiredStateOf(input: DesiredStateInput): DesiredState {
  const { branch, tagged } = input;
  const environments = new Map<string, DesiredEnvironment>();
  const services = new Map<string, Uint8Array>();
  const releases = new Map<string, DesiredRelease>();
  const revisions: Record<string, Revision> = {};
  const unserved: UnservedEnvironment[] = [];

  /** Which revision (and model) each environment serves, or undefined when none. */
  const sources = new Map<string, RevisionedRepo | undefined>();
  for (const env of branch.repo.environments.values()) {
    if ('tag' in env.tracks) {
      const source = tagged.get(env.name);
      sources.set(env.name, source);
      if (source) revisions[env.name] = { ...source.revision };
    } else if (env.tracks.branch === branch.name) {
      sources.set(env.name, branch);
      revisions[env.name] = branch.revision;
    } else {
      unserved.push({
        env: env.name,
        reason: `it follows branch "${env.tracks.branch}" and this syncer mirrors "${branch.name}"`,
      });
    }
  }

  for (const service of branch.repo.services.values()) {
    services.set(service.name, serviceRecordBytes(service, branch.repo.policy));
    for (const [env, source] of sources) {
      const served = source?.repo.services.get(service.name);
      if (!served || !source) continue;
      const parts = serviceParts(served);
      const snapshot = parts.environments.get(env);
      const release = parts.releases.get(env);
      if (snapshot) {
        environments.set(environmentKey(service.name, env), {
          service: service.name,
          env,
          manifest: snapshot.manifest,
          manifestId: snapshot.manifestId,
          revision: source.revision,
          bytes: snapshot.bytes,
          contents: snapshot.contents,
          configRollout:
            release !== undefined && service.environments.get(env)?.configRollout === 'with-release',
          drains:
            service.environments.get(env)?.drainDuringDeploys === true &&
            service.environments.get(env)?.configRollout !== 'with-release',
        });
      }
      if (release)
        releases.set(environmentKey(service.name, env), { service: service.name, env, record: release });
    }
  }
  let contents: Map<string, Uint8Array> | undefined;
  return {
    environments,
    services,
    releases,
    // Every file's id of the repository: gathered only for a reader that asks.
    get contents() {
      contents ??= contentsOf(environments.values());
      return contents;
    },
    revisions,
    unserved,
  };
}

/** The content nodes of `environments`, each id once, in their order. */
function contentsOf(environments: Iterable<DesiredEnvironment>): Map<string, Uint8Array> {
  const contents = new Map<string, Uint8Array>();
  for (const environment of environments)
    for (const [id, bytes] of environment.contents) if (!contents.has(id)) contents.set(id, bytes);
  return contents;
}

/**
 * Computes what each service of `repos` contributes to a desired state (its snapshots' manifests and
 * content ids), in slices of the event loop, so that the `desiredStateOf` that follows finds it done.
 * For a first load of a large repository that is seconds of work the event loop would otherwise not
 * see the end of; later loads keep unchanged services, and this costs what changed.
 */
export async function prepareDesiredState(
  repos: Iterable<ConfigRepo>,
  options?: SliceOptions,
): Promise<void> {
  for (const repo of repos) await forEachInSlices(repo.services.values(), serviceParts, options);
}

/** One service's files in one environment as content: its manifest, the manifest's id and every content node. */
export interface EnvironmentSnapshotContent {
  readonly manifest: EnvironmentManifest;
  readonly manifestId: string;
  readonly bytes: number;
  /** File bytes and the manifest itself, by content id. */
  readonly contents: ReadonlyMap<string, Uint8Array>;
}

/** The snapshot `service` serves in `env`, as the syncer would publish it; undefined where it has no files. */
export function environmentSnapshotOf(service: Service, env: string): EnvironmentSnapshotContent | undefined {
  return serviceParts(service).environments.get(env);
}

const recordsByPolicy = new WeakMap<PolicyManifest, WeakMap<Service, Uint8Array>>();

/**
 * The service record, with the steering grants of the branch's policy when it has a `deployments`
 * section: cached per policy object too, as a changed policy.yaml changes every service's record.
 */
function serviceRecordBytes(service: Service, policy: PolicyManifest | undefined): Uint8Array {
  if (!policy?.deployments) return serviceParts(service).record;
  const records = recordsByPolicy.get(policy) ?? new WeakMap<Service, Uint8Array>();
  recordsByPolicy.set(policy, records);
  const record = records.get(service) ?? encodeServiceRecord(serviceRecordOf(service, policy));
  records.set(service, record);
  return record;
}

/** What a service contributes, whatever revision it serves from: computed once per Service object. */
interface ServiceParts {
  readonly record: Uint8Array;
  readonly environments: ReadonlyMap<string, EnvironmentSnapshotContent>;
  readonly releases: ReadonlyMap<string, Uint8Array>;
}

/** A model cache keeps unchanged services' objects from load to load, so this costs what changed. */
const partsByService = new WeakMap<Service, ServiceParts>();

function serviceParts(service: Service): ServiceParts {
  const cached = partsByService.get(service);
  if (cached) return cached;
  const environments = new Map<string, EnvironmentSnapshotContent>();
  for (const [env, files] of service.files) {
    const manifestFiles = new Map<string, string>();
    const contents = new Map<string, Uint8Array>();
    let bytes = 0;
    for (const file of files.values()) {
      const id = contentId(file.bytes);
      manifestFiles.set(file.path, id);
      contents.set(id, file.bytes);
      bytes += file.bytes.length;
    }
    const manifest: EnvironmentManifest = { files: manifestFiles };
    const encoded = encodeEnvironmentManifest(manifest);
    const manifestId = contentId(encoded);
    contents.set(manifestId, encoded);
    environments.set(env, { manifest, manifestId, bytes, contents });
  }
  const releases = new Map<string, Uint8Array>();
  for (const release of service.releases.values())
    releases.set(release.env, encodeReleaseRecord(release.manifest));
  const parts: ServiceParts = {
    record: encodeServiceRecord(serviceRecordOf(service)),
    environments,
    releases,
  };
  partsByService.set(service, parts);
  return parts;
}
