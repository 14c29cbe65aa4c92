import type { ConfigRepo, EffectiveFile, Release } from './config-repo.js';

/** One effective file that a change adds, changes or removes, in one service and environment. */
export interface FileChange {
  readonly service: string;
  readonly env: string;
  readonly path: string;
  readonly kind: 'added' | 'changed' | 'removed';
  readonly before?: EffectiveFile;
  readonly after?: EffectiveFile;
}

/** A release manifest that a change adds, changes or removes: each starts or stops a deployment. */
export interface ReleaseChange {
  readonly service: string;
  readonly env: string;
  readonly kind: 'added' | 'changed' | 'removed';
  readonly before?: Release;
  readonly after?: Release;
}

export interface ConfigDiff {
  readonly files: readonly FileChange[];
  readonly releases: readonly ReleaseChange[];
  /** Services that appear or disappear as a whole. */
  readonly servicesAdded: readonly string[];
  readonly servicesRemoved: readonly string[];
}

/**
 * What changes for services when the repository goes from `from` (undefined: nothing yet) to `to`,
 * in the terms people review: effective files per service and environment, and releases.
 */
export function diffConfigRepos(from: ConfigRepo | undefined, to: ConfigRepo): ConfigDiff {
  const files: FileChange[] = [];
  const releases: ReleaseChange[] = [];
  const before = from?.services ?? new Map();
  const names = [...new Set([...before.keys(), ...to.services.keys()])].sort();
  for (const service of names) {
    const old = before.get(service);
    const next = to.services.get(service);
    const envs = [...new Set([...(old?.files.keys() ?? []), ...(next?.files.keys() ?? [])])].sort();
    for (const env of envs) {
      const oldFiles = old?.files.get(env) ?? new Map<string, EffectiveFile>();
      const newFiles = next?.files.get(env) ?? new Map<string, EffectiveFile>();
      for (const path of [...new Set([...oldFiles.keys(), ...newFiles.keys()])].sort()) {
        const a = oldFiles.get(path);
        const b = newFiles.get(path);
        if (a && b) {
          if (a.bytes !== b.bytes && !Buffer.from(a.bytes).equals(b.bytes))
            files.push({ service, env, path, kind: 'changed', before: a, after: b });
        } else if (b) files.push({ service, env, path, kind: 'added', after: b });
        else if (a) files.push({ service, env, path, kind: 'removed', before: a });
      }
    }
    const releaseEnvs = [
      ...new Set([...(old?.releases.keys() ?? []), ...(next?.releases.keys() ?? [])]),
    ].sort();
    for (const env of releaseEnvs) {
      const a = old?.releases.get(env);
      const b = next?.releases.get(env);
      if (a && b) {
        if (JSON.stringify(a.manifest) !== JSON.stringify(b.manifest))
          releases.push({ service, env, kind: 'changed', before: a, after: b });
      } else if (b) releases.push({ service, env, kind: 'added', after: b });
      else if (a) releases.push({ service, env, kind: 'removed', before: a });
    }
  }
  return {
    files,
    releases,
    servicesAdded: names.filter((n) => !before.has(n) && to.services.has(n)),
    servicesRemoved: names.filter((n) => before.has(n) && !to.services.has(n)),
  };
}
