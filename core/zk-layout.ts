import { UnsafePathError } from './errors.js';
import { unsafePathReason } from './path-safety.js';

/**
 * Every ZooKeeper path Cairn uses is built here and nowhere else (layout contract v2).
 *
 *   <root>                                   default /cairn
 *     /principals                            who each role is (digest ids), when access is controlled
 *     /head                                  the mirrored commit: who, when, what each environment serves
 *     /history/<seq>                         one record per mirrored commit (bounded): changes, approvals
 *     /refused                               the commit last refused, with its diagnostics, until one mirrors
 *     /content/<id[0..2]>/<id>               immutable file bytes named by git blob id (256 shards)
 *     /config/<service>/<env>                the environment's pointer: revision and manifest content id
 *     /services/<service>                    the service tree node (service.yaml with defaults)
 *     /releases/<service>/<env>              the release manifest
 *     /deployments/<service>/<env>/<id>      a deployment: release, plan, state, transitions
 *         /tasks/<host>                      one task per host the rollout reached
 *         /claims/<host>                     ephemeral: the agent running the host's task (its session)
 *         /control/action-<seq>              operators' pause, resume, skip, abort, retry (sequential)
 *         /log/<host>/<seq>                  the deploy output's tail, in chunks (the last few kept)
 *     /pins/<name>                           snapshots a rollout still needs (kept from collection)
 *     /assignments/<service>/<env>/<host>    the snapshot a host serves while configuration rides a rollout
 *     /instances/<service>/<env>/<id>        ephemeral: one running instance of a service
 *     /agents/<host>                         ephemeral: one host agent
 *     /syncers/candidate-<seq>               ephemeral sequential: leader election of syncers
 *     /elections/<service>/<env>/<name>/candidate-<seq>
 *                                            ephemeral sequential: an active/standby role among a
 *                                            service's instances (the SDK's elect())
 *
 * Content nodes are sharded by the first two hex digits of their id so that no folder grows past
 * what one `getChildren` answer may carry to a Java client (its jute.maxbuffer, 1 MiB by default:
 * the server sends a bigger answer, which the client refuses), `zkCli.sh` for an operator among them.
 */
export class ZkLayout {
  readonly root: string;

  constructor(root = '/cairn') {
    if (!/^(\/[^/]+)+$/.test(root) || unsafePathReason(root.slice(1))) {
      throw new UnsafePathError(
        root,
        'the ZooKeeper root must be an absolute path like /cairn, without "." or ".." segments',
      );
    }
    this.root = root;
  }

  head(): string {
    return `${this.root}/head`;
  }

  /** The digest ids of each role and host, which every part's ACLs name (see zk-acl-policy.ts). */
  principals(): string {
    return `${this.root}/principals`;
  }

  /** The commit the syncer last refused, and why, until a later commit mirrors. */
  refused(): string {
    return `${this.root}/refused`;
  }

  historyDir(): string {
    return `${this.root}/history`;
  }

  /** The record of the `seq`-th mirrored commit; zero-padded so that names sort in commit order. */
  historyRecord(seq: number): string {
    return `${this.historyDir()}/${historyName(seq)}`;
  }

  contentDir(): string {
    return `${this.root}/content`;
  }

  /** Every shard folder of /content, in order. */
  contentShards(): string[] {
    return SHARDS.map((shard) => `${this.contentDir()}/${shard}`);
  }

  content(id: string): string {
    if (!CONTENT_ID.test(id)) throw new UnsafePathError(id, 'a content id is 40 lower-case hex digits');
    return `${this.contentDir()}/${id.slice(0, 2)}/${id}`;
  }

  configDir(): string {
    return `${this.root}/config`;
  }

  configService(service: string): string {
    return `${this.configDir()}/${segment(service)}`;
  }

  /** The environment's pointer: the one node readers of a service in an environment watch. */
  environment(service: string, env: string): string {
    return `${this.configService(service)}/${segment(env)}`;
  }

  servicesDir(): string {
    return `${this.root}/services`;
  }

  service(service: string): string {
    return `${this.servicesDir()}/${segment(service)}`;
  }

  releasesDir(): string {
    return `${this.root}/releases`;
  }

  releaseService(service: string): string {
    return `${this.releasesDir()}/${segment(service)}`;
  }

  release(service: string, env: string): string {
    return `${this.releaseService(service)}/${segment(env)}`;
  }

  deploymentsDir(): string {
    return `${this.root}/deployments`;
  }

  deploymentsService(service: string): string {
    return `${this.deploymentsDir()}/${segment(service)}`;
  }

  deployments(service: string, env: string): string {
    return `${this.deploymentsService(service)}/${segment(env)}`;
  }

  deployment(service: string, env: string, id: string): string {
    if (deploymentSeqOf(id) === undefined)
      throw new UnsafePathError(id, 'a deployment id is "d-" and ten digits, like d-0000000001');
    return `${this.deployments(service, env)}/${id}`;
  }

  deploymentTasks(service: string, env: string, id: string): string {
    return `${this.deployment(service, env, id)}/tasks`;
  }

  deploymentTask(service: string, env: string, id: string, host: string): string {
    return `${this.deploymentTasks(service, env, id)}/${segment(host)}`;
  }

  deploymentClaims(service: string, env: string, id: string): string {
    return `${this.deployment(service, env, id)}/claims`;
  }

  /** Ephemeral: held by the agent running the host's task, for as long as its session lives. */
  deploymentClaim(service: string, env: string, id: string, host: string): string {
    return `${this.deploymentClaims(service, env, id)}/${segment(host)}`;
  }

  deploymentControls(service: string, env: string, id: string): string {
    return `${this.deployment(service, env, id)}/control`;
  }

  /** Prefix for persistent sequential control actions: they sort in the order they were recorded. */
  deploymentControlPrefix(service: string, env: string, id: string): string {
    return `${this.deploymentControls(service, env, id)}/action-`;
  }

  deploymentControl(service: string, env: string, id: string, name: string): string {
    if (controlSeqOf(name) === undefined)
      throw new UnsafePathError(name, 'a control action is named action-<ten digits>');
    return `${this.deploymentControls(service, env, id)}/${name}`;
  }

  deploymentLogs(service: string, env: string, id: string): string {
    return `${this.deployment(service, env, id)}/log`;
  }

  deploymentLog(service: string, env: string, id: string, host: string): string {
    return `${this.deploymentLogs(service, env, id)}/${segment(host)}`;
  }

  deploymentLogChunk(service: string, env: string, id: string, host: string, seq: number): string {
    return `${this.deploymentLog(service, env, id, host)}/${sequenceName(seq, 'a log chunk number')}`;
  }

  pinsDir(): string {
    return `${this.root}/pins`;
  }

  pin(name: string): string {
    return `${this.pinsDir()}/${segment(name)}`;
  }

  /** The pin of the snapshots an environment's configuration rollout still serves to some hosts. */
  configRolloutPin(service: string, env: string): string {
    return this.pin(`config-rollout@${segment(service)}@${segment(env)}`);
  }

  /**
   * The pin of the drained snapshots a consumer's hosts are assigned in an environment: while it
   * exists, the consumer has drain assignments there, which the deployment controller keeps up.
   */
  drainPin(service: string, env: string): string {
    return this.pin(`drain@${segment(service)}@${segment(env)}`);
  }

  /** The consumer and environment of a drain pin's name; undefined for any other pin. */
  drainPinOf(name: string): { readonly service: string; readonly env: string } | undefined {
    const [kind, service, env, ...rest] = name.split('@');
    if (kind !== 'drain' || !service || !env || rest.length > 0) return undefined;
    return { service, env };
  }

  assignmentsDir(): string {
    return `${this.root}/assignments`;
  }

  assignmentsService(service: string): string {
    return `${this.assignmentsDir()}/${segment(service)}`;
  }

  /** The folder of an environment's host assignments (see core/records/host-assignment-record.ts). */
  assignments(service: string, env: string): string {
    return `${this.assignmentsService(service)}/${segment(env)}`;
  }

  assignment(service: string, env: string, host: string): string {
    return `${this.assignments(service, env)}/${segment(host)}`;
  }

  instancesDir(): string {
    return `${this.root}/instances`;
  }

  instances(service: string, env: string): string {
    return `${this.instancesDir()}/${segment(service)}/${segment(env)}`;
  }

  instance(service: string, env: string, id: string): string {
    return `${this.instances(service, env)}/${segment(id)}`;
  }

  agentsDir(): string {
    return `${this.root}/agents`;
  }

  agent(host: string): string {
    return `${this.agentsDir()}/${segment(host)}`;
  }

  syncersDir(): string {
    return `${this.root}/syncers`;
  }

  /** Prefix for ephemeral sequential election nodes. */
  syncerCandidatePrefix(): string {
    return `${this.syncersDir()}/candidate-`;
  }

  /** A node of the syncers' election, by the name `getChildren` lists. */
  syncerCandidate(name: string): string {
    return `${this.syncersDir()}/${segment(name)}`;
  }

  electionsDir(): string {
    return `${this.root}/elections`;
  }

  /** The folder of one active/standby role of a service's instances in an environment. */
  election(service: string, env: string, name: string): string {
    return `${this.electionsDir()}/${segment(service)}/${segment(env)}/${segment(name)}`;
  }

  /** Prefix for the ephemeral sequential candidate nodes of an election. */
  electionCandidatePrefix(service: string, env: string, name: string): string {
    return `${this.election(service, env, name)}/candidate-`;
  }

  /** A candidate node of an election, by the name `getChildren` lists. */
  electionCandidate(service: string, env: string, name: string, node: string): string {
    return `${this.election(service, env, name)}/${segment(node)}`;
  }

  /** A child of a node this layout built, by the name `getChildren` lists (for walking folders). */
  child(parent: string, name: string): string {
    if (parent !== this.root && !parent.startsWith(`${this.root}/`))
      throw new UnsafePathError(parent, `not under the Cairn root ${this.root}`);
    return `${parent}/${segment(name)}`;
  }

  /** The folders the syncer creates once, before anything is written: parents come first. */
  fixedFolders(): string[] {
    return [
      this.configDir(),
      this.servicesDir(),
      this.releasesDir(),
      this.historyDir(),
      this.contentDir(),
      ...this.contentShards(),
      this.deploymentsDir(),
      this.pinsDir(),
      this.assignmentsDir(),
      this.instancesDir(),
      this.agentsDir(),
      this.syncersDir(),
      this.electionsDir(),
    ];
  }

  /**
   * What a path under the root is, read back from the shapes built above: the ACL policy decides by
   * it. `outside` for a path not under the root, `unknown` for one under it that Cairn never builds.
   */
  kindOf(path: string): ZkNodeKind {
    if (path === this.root) return { kind: 'root' };
    if (!path.startsWith(`${this.root}/`)) return { kind: 'outside' };
    const names = path.slice(this.root.length + 1).split('/');
    const [top = '', , , , folder, host] = names;
    if (top === 'agents' && names.length === 2) return { kind: 'agent', host: names[1] as string };
    if (top === 'deployments' && names.length > 4) {
      const kinds = DEPLOYMENT_KINDS[folder as string];
      const kind = kinds?.[names.length - 5];
      if (!kinds || !kind) return { kind: 'unknown' };
      return isHostNodeKind(kind) ? { kind, host: host as string } : { kind };
    }
    const kind = (FOLDER_KINDS as Readonly<Record<string, readonly FolderKind[]>>)[top]?.[names.length - 1];
    if (kind === 'agent' || !kind) return { kind: 'unknown' };
    return { kind };
  }
}

const HOST_NODE_KINDS = [
  'agent',
  'deployment-task',
  'deployment-claim',
  'deployment-log',
  'deployment-log-chunk',
] as const;

/** The kinds of node a host's agent owns: each names the host. */
export type HostNodeKind = (typeof HOST_NODE_KINDS)[number];

function isHostNodeKind(kind: string): kind is HostNodeKind {
  return (HOST_NODE_KINDS as readonly string[]).includes(kind);
}

/** The kinds of node the layout defines (a `-dir` is a folder of the kind it names). */
export type ZkNodeKind =
  | { readonly kind: HostNodeKind; readonly host: string }
  | {
      readonly kind: Exclude<FolderKind, 'agent'> | DeploymentFolderKind | 'root' | 'outside' | 'unknown';
    };

type FolderKind = (typeof FOLDER_KINDS)[keyof typeof FOLDER_KINDS][number];
type DeploymentFolderKind =
  | 'deployment-tasks'
  | 'deployment-claims'
  | 'deployment-controls'
  | 'deployment-control'
  | 'deployment-logs';

/** By the first name under the root, the kind of node at each depth. */
const FOLDER_KINDS = {
  principals: ['principals'],
  head: ['head'],
  refused: ['refused'],
  history: ['history-dir', 'history-record'],
  content: ['content-dir', 'content-shard', 'content'],
  config: ['config-dir', 'config-service', 'environment'],
  services: ['services-dir', 'service'],
  releases: ['releases-dir', 'release-service', 'release'],
  deployments: ['deployments-dir', 'deployments-service', 'deployments-environment', 'deployment'],
  pins: ['pins-dir', 'pin'],
  assignments: ['assignments-dir', 'assignments-service', 'assignments-environment', 'assignment'],
  instances: ['instances-dir', 'instances-service', 'instances-environment', 'instance'],
  agents: ['agents-dir', 'agent'],
  syncers: ['syncers-dir', 'syncer-candidate'],
  elections: [
    'elections-dir',
    'elections-service',
    'elections-environment',
    'election',
    'election-candidate',
  ],
} as const satisfies Record<string, readonly string[]>;

/** Below a deployment, by the folder's name, the kind of node at each depth. */
const DEPLOYMENT_KINDS: Readonly<
  Record<string, readonly (Exclude<HostNodeKind, 'agent'> | DeploymentFolderKind)[]>
> = {
  tasks: ['deployment-tasks', 'deployment-task'],
  claims: ['deployment-claims', 'deployment-claim'],
  control: ['deployment-controls', 'deployment-control'],
  log: ['deployment-logs', 'deployment-log', 'deployment-log-chunk'],
};

/** A git blob id: what content nodes are named by. */
export const CONTENT_ID = /^[0-9a-f]{40}$/;

const SHARDS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

const HISTORY_DIGITS = 10;

function historyName(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 1 || seq >= 10 ** HISTORY_DIGITS)
    throw new UnsafePathError(String(seq), 'a history sequence number is a positive integer');
  return String(seq).padStart(HISTORY_DIGITS, '0');
}

/** The sequence number of a history record's node name, or undefined for a name that is not one. */
export function historySeqOf(name: string): number | undefined {
  return /^\d{10}$/.test(name) ? Number(name) : undefined;
}

/** A deployment's id for its sequence number in its environment: names sort in creation order. */
export function deploymentId(seq: number): string {
  return `d-${sequenceName(seq, 'a deployment number')}`;
}

/** The sequence number of a deployment id, or undefined for a name that is not one. */
export function deploymentSeqOf(id: string): number | undefined {
  return /^d-\d{10}$/.test(id) ? Number(id.slice(2)) : undefined;
}

/** The sequence number ZooKeeper gave a control action, or undefined for a name that is not one. */
export function controlSeqOf(name: string): number | undefined {
  return /^action-\d{10}$/.test(name) ? Number(name.slice(7)) : undefined;
}

/** The number of a log chunk's node name, or undefined for a name that is not one. */
export function logChunkSeqOf(name: string): number | undefined {
  return /^\d{10}$/.test(name) ? Number(name) : undefined;
}

function sequenceName(seq: number, what: string): string {
  if (!Number.isSafeInteger(seq) || seq < 0 || seq >= 10 ** 10)
    throw new UnsafePathError(String(seq), `${what} is an integer from 0 to 9999999999`);
  return String(seq).padStart(10, '0');
}

function segment(name: string): string {
  const reason = name.includes('/') ? 'a name cannot contain "/"' : unsafePathReason(name);
  if (reason) throw new UnsafePathError(name, reason);
  return name;
}
