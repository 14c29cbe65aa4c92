import {
  type ConfigRepo,
  type DesiredState,
  type Diagnostic,
  desiredStateOf,
  destructiveChangeDiagnostics,
  diffConfigRepos,
  EMPTY_PUBLISHED_STATE,
  type Environment,
  type FileChange,
  planPublication,
  publicationCounts,
  publishedStateOf,
  type ReleaseChange,
  type Revision,
  type Rollout,
  rolloutOf,
  ZkLayout,
} from '../../core/index.js';

/** Effective files that change in one service and environment. */
export interface EnvironmentChanges {
  readonly service: string;
  readonly env: string;
  /** How the environment follows the repository: it goes live on merge, or with a release tag. */
  readonly tracks: Environment['tracks'] | undefined;
  readonly files: readonly FileChange[];
}

/** A release manifest change, and the deployment it starts. */
export interface DeploymentPlan {
  readonly service: string;
  readonly env: string;
  readonly change: ReleaseChange;
  readonly tracks: Environment['tracks'] | undefined;
  /** Where and how the new version rolls out; absent when the manifest is removed. */
  readonly rollout?: Rollout;
  readonly hostCount: number;
}

export interface ZnodeCounts {
  readonly creates: number;
  readonly updates: number;
  readonly removes: number;
}

/** What merging a pull request changes in ZooKeeper, in the terms people review. */
export interface Plan {
  readonly environments: readonly EnvironmentChanges[];
  readonly deployments: readonly DeploymentPlan[];
  readonly servicesAdded: readonly string[];
  readonly servicesRemoved: readonly string[];
  readonly znodes: ZnodeCounts;
  /** Why the syncer would refuse the merge as destructive (core's guard): empty when it would not. */
  readonly refusals: readonly Diagnostic[];
}

/**
 * The plan from the model at the base commit to the model at the head, for a merge into `branch`:
 * the same publication the syncer makes (core's desired state and `planPublication`), grouped by
 * service and environment, with each release change's rollout. Environments that follow release tags
 * do not change with a merge (their files come from the next matching tag): both sides take them
 * from the base, so only what the merge itself changes for them — a service removed, say — counts.
 */
export function buildPlan(base: ConfigRepo | undefined, head: ConfigRepo, branch = 'main'): Plan {
  const diff = diffConfigRepos(base, head);
  const groups = new Map<string, FileChange[]>();
  for (const change of diff.files) {
    const key = `${change.service}\u0000${change.env}`;
    const list = groups.get(key) ?? [];
    list.push(change);
    groups.set(key, list);
  }
  const environments = [...groups.values()].map((files): EnvironmentChanges => {
    const { service, env } = files[0] as FileChange;
    return {
      service,
      env,
      tracks: (head.environments.get(env) ?? base?.environments.get(env))?.tracks,
      files,
    };
  });

  const deployments = diff.releases.map((change): DeploymentPlan => {
    const tracks = (head.environments.get(change.env) ?? base?.environments.get(change.env))?.tracks;
    const hosts = head.services.get(change.service)?.environments.get(change.env)?.hosts ?? [];
    return {
      service: change.service,
      env: change.env,
      change,
      tracks,
      hostCount: hosts.length,
      ...(change.after ? { rollout: rolloutOf(change.after.manifest.strategy, hosts) } : {}),
    };
  });

  const layout = new ZkLayout();
  const before = base ? publishedStateOf(mergeState(base, base, branch)) : EMPTY_PUBLISHED_STATE;
  const znodes = publicationCounts(planPublication(layout, before, mergeState(head, base ?? head, branch)));
  return {
    environments,
    deployments,
    servicesAdded: diff.servicesAdded,
    servicesRemoved: diff.servicesRemoved,
    znodes,
    refusals: destructiveMergeDiagnostics(base, head, branch),
  };
}

/**
 * Why the syncer would refuse merging `head` over `base` as destructive: the guard it applies to what
 * ZooKeeper serves, applied to what the base serves once mirrored.
 */
export function destructiveMergeDiagnostics(
  base: ConfigRepo | undefined,
  head: ConfigRepo,
  branch = 'main',
): Diagnostic[] {
  if (!base) return [];
  return destructiveChangeDiagnostics(
    mergeState(base, base, branch).environments,
    mergeState(head, base, branch),
    head,
  );
}

/** What a preview's revisions are: only their presence matters to what is written, not their text. */
const PREVIEW: Revision = { commit: '0'.repeat(40), author: { name: '', email: '' }, message: '', time: '' };

/** The desired state after merging `repo`, environments that follow tags served from `tagged`. */
function mergeState(repo: ConfigRepo, tagged: ConfigRepo, branch: string): DesiredState {
  const tags = new Map(
    [...repo.environments.values()]
      .filter((env) => 'tag' in env.tracks)
      .map((env) => [env.name, { repo: tagged, revision: PREVIEW }] as const),
  );
  return desiredStateOf({ branch: { name: branch, repo, revision: PREVIEW }, tagged: tags });
}
