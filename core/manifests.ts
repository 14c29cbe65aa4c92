/*
 * The typed shape of the repository's manifests, mirroring schemas/*.schema.json. Values of these
 * types only exist after the schema validated them; defaults are filled in by the model.
 */

export type Principal = `user:${string}` | `team:${string}`;
export type PolicyPrincipal = Principal | 'owners';

/**
 * How a change of an environment's configuration reaches its hosts: at once (`immediate`, the
 * default), or through the release's canary and batches (`with-release`), hosts not yet reached
 * keeping the previous snapshot.
 */
export type ConfigRollout = 'immediate' | 'with-release';

export const CONFIG_ROLLOUTS: readonly ConfigRollout[] = ['immediate', 'with-release'];

export interface EnvironmentSettings {
  readonly description?: string;
  readonly tracks: { readonly branch: string } | { readonly tag: string };
  /** The default of the environment's services; a service's environment may say otherwise. */
  readonly configRollout?: ConfigRollout;
}

export interface SettingsManifest {
  readonly apiVersion: 'cairn/v1';
  readonly environments: Readonly<Record<string, EnvironmentSettings>>;
  readonly limits?: {
    readonly maxFileBytes?: number;
    readonly historyRetention?: number;
    readonly snapshotRetention?: number;
  };
}

export interface PolicyRequirement {
  readonly approvals: number;
  readonly from: readonly PolicyPrincipal[];
}

export interface PolicyRule {
  readonly name: string;
  readonly description?: string;
  readonly paths: readonly string[];
  readonly require: readonly PolicyRequirement[];
}

/** The actions an operator may take on a running deployment (`cairn deploy <action>`). */
export type SteeringAction = 'pause' | 'resume' | 'skip' | 'abort' | 'retry';

/** Who may steer the deployments of the release manifests a rule's paths match. */
export interface SteeringRule {
  readonly name: string;
  readonly description?: string;
  /** Globs of release manifests (`services/<service>/releases/<env>.yaml`). */
  readonly paths: readonly string[];
  /** The actions the rule governs; all of them when absent. */
  readonly actions?: readonly SteeringAction[];
  readonly from: readonly SteeringPrincipal[];
}

export type SteeringPrincipal = `user:${string}` | 'owners';

export interface PolicyManifest {
  readonly apiVersion: 'cairn/v1';
  readonly rules: readonly PolicyRule[];
  /** Who may steer deployments; absent, anyone who can write to ZooKeeper may (as before the section existed). */
  readonly deployments?: readonly SteeringRule[];
  readonly approvals?: {
    /** An approval of an earlier commit with the head's very tree still counts (default true). */
    readonly keepOnUnchangedTree?: boolean;
  };
}

export interface HostEntry {
  readonly host: string;
  readonly weight?: number;
  readonly labels?: Readonly<Record<string, string>>;
}

export type LoadBalancing = 'weighted-round-robin' | 'consistent-hash';

export interface ServiceEnvironmentManifest {
  readonly loadBalancing?: LoadBalancing;
  /** Overrides the environment's `configRollout` (cairn.yaml) for this service. */
  readonly configRollout?: ConfigRollout;
  /** Overrides the service's `drainDuringDeploys` in this environment. */
  readonly drainDuringDeploys?: boolean;
  readonly reload?: string;
  readonly check?: string;
  readonly hosts: readonly HostEntry[];
}

export interface ServiceManifest {
  readonly apiVersion: 'cairn/v1';
  readonly description: string;
  readonly owners: readonly Principal[];
  readonly port?: number;
  readonly files?: {
    readonly directory: string;
    readonly mode?: string;
    readonly owner?: string;
    readonly prune?: boolean;
  };
  readonly reload?: string;
  readonly check?: string;
  /** Other services of the repository this one calls. */
  readonly dependsOn?: readonly string[];
  /** URL path prefixes under which a gateway that depends on the service sends it requests. */
  readonly routes?: readonly string[];
  /**
   * While a service of `dependsOn` deploys, the hosts of its running step are draining in this
   * service's templates (`server.draining`). Default false; an environment may override it.
   */
  readonly drainDuringDeploys?: boolean;
  readonly environments: Readonly<Record<string, ServiceEnvironmentManifest>>;
}

export interface ReleaseStrategy {
  readonly canary?: { readonly hosts: number; readonly bakeSeconds?: number; readonly pause?: boolean };
  readonly batchSize: number | `${number}%`;
  readonly pauseBetweenBatchesSeconds?: number;
  readonly maxFailedHosts?: number;
  /** Seconds a step (canary or batch) may take before the deployment fails; default 3600. */
  readonly progressDeadlineSeconds?: number;
  /** A rollback: no canary and no bake, but the same batch size. */
  readonly rollback?: boolean;
}

export interface ReleaseManifest {
  readonly apiVersion: 'cairn/v1';
  readonly version: string;
  readonly notes?: string;
  readonly deploy: {
    readonly command: string;
    readonly timeoutSeconds?: number;
    readonly healthCheck?: { readonly command: string; readonly timeoutSeconds?: number };
  };
  readonly strategy: ReleaseStrategy;
}

/** ZooKeeper's default jute.maxbuffer is 1 MiB (1,048,575 bytes) per node and per request. */
export const DEFAULT_MAX_FILE_BYTES = 1_000_000;
/** The largest limits.maxFileBytes allowed (1 MiB less 1 KiB for the path and header): no file above it is parsed. */
export const MAX_FILE_BYTES_CEILING = 1_047_552;
export const DEFAULT_HISTORY_RETENTION = 100;
/** How many of the last mirrored commits keep their snapshots in ZooKeeper (see limits.snapshotRetention). */
export const DEFAULT_SNAPSHOT_RETENTION = 20;
/** The weight of a host the service tree lists without one, and of an instance on an unlisted host. */
export const DEFAULT_HOST_WEIGHT = 100;
export const DEFAULT_LOAD_BALANCING: LoadBalancing = 'weighted-round-robin';
/** Mode of the files an agent writes when service.yaml names none. */
export const DEFAULT_FILE_MODE = '0644';
/** How long one step of a deployment (canary or batch) may take when the strategy names no deadline. */
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 3600;
