import {
  type LoadOptions,
  loadConfigRepo,
  type ManifestChecker,
  type RepoModelCache,
} from './config-repo.js';
import { type EnvironmentSnapshotContent, environmentSnapshotOf } from './desired-state.js';
import type { Diagnostic } from './diagnostic.js';
import type { RepoTree } from './repo-tree.js';
import type { DrainingHosts } from './templates/template-context.js';

export interface DrainedSnapshotsInput {
  /** The repository at the revision the environment serves. */
  readonly tree: RepoTree;
  readonly checkManifest: ManifestChecker;
  /** The model cache of that revision's loads: only the consumers' templates render again. */
  readonly cache?: RepoModelCache;
  readonly env: string;
  /** By service, the hosts of its running deploy step in `env`. */
  readonly draining: DrainingHosts;
}

/** What draining does to the consumers of the deploying services in one environment. */
export interface DrainedSnapshots {
  /**
   * By consumer: its files in the environment with the hosts draining, ready to publish as content.
   * Every service that opted in (`drainDuringDeploys`) and depends on a service with a draining host.
   */
  readonly snapshots: ReadonlyMap<string, EnvironmentSnapshotContent>;
  /**
   * By consumer whose templates fail when rendered with the hosts draining: what went wrong. Such a
   * consumer keeps serving its snapshot undrained rather than a file that lost its template.
   */
  readonly failures: ReadonlyMap<string, readonly Diagnostic[]>;
}

/**
 * Renders, for one environment, the files of every service that opted in to draining with the hosts
 * of running deploy steps marked draining in its templates (`server.draining`): the same load and the
 * same templates as the published snapshot, so only what the drain changes differs. A consumer whose
 * files do not mention the drain gets a snapshot equal to its published one (the same manifest id).
 */
export function drainedSnapshotsOf(input: DrainedSnapshotsInput): DrainedSnapshots {
  const { env, draining } = input;
  const options: LoadOptions = { draining: new Map([[env, draining]]) };
  const { repo, diagnostics } = loadConfigRepo(input.tree, input.checkManifest, input.cache, options);
  const snapshots = new Map<string, EnvironmentSnapshotContent>();
  const failures = new Map<string, Diagnostic[]>();
  for (const service of repo.services.values()) {
    if (!service.environments.get(env)?.drainDuringDeploys) continue;
    const drains = (service.manifest.dependsOn ?? []).some((name) => (draining.get(name)?.size ?? 0) > 0);
    if (!drains) continue;
    const prefix = `services/${service.name}/`;
    const errors = diagnostics.filter((d) => d.severity === 'error' && d.file.startsWith(prefix));
    if (errors.length > 0) {
      failures.set(service.name, errors);
      continue;
    }
    const snapshot = environmentSnapshotOf(service, env);
    if (snapshot) snapshots.set(service.name, snapshot);
  }
  return { snapshots, failures };
}
