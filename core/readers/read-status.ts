import { type HostApply, type HostApplyState, hostApplyState, instanceServes } from '../applied-state.js';
import { servedSnapshotRef } from '../environment-reader.js';
import {
  type AgentRecord,
  decodeAgentRecord,
  decodeEnvironmentManifest,
  decodeEnvironmentPointer,
  decodeHeadRecord,
  decodeHistoryRecord,
  decodeHostAssignmentRecord,
  decodeInstanceRecord,
  decodeRefusalRecord,
  decodeServiceRecord,
  type HeadRecord,
  type HistoryRecord,
  type HostAssignmentRecord,
  type InstanceRecord,
  type RefusalRecord,
} from '../records/index.js';
import type { ZkLayout } from '../zk-layout.js';
import { candidateIds, type ZkSession } from '../zookeeper/index.js';

/** Whether an instance serves the files ZooKeeper holds for its environment now. */
export type InstanceState = 'current' | 'behind' | 'starting';

export interface InstanceStatus {
  readonly record: InstanceRecord;
  readonly state: InstanceState;
  /** The commit a rollout of the environment's configuration holds its host at, when not the newest. */
  readonly heldAt?: string;
  /** While its host serves a consumer's drained files: by deploying service, the hosts drained. */
  readonly drained?: DrainedHosts;
}

/** By deploying service, the hosts a consumer's files mark as drained for its deploy. */
export type DrainedHosts = Readonly<Record<string, readonly string[]>>;

/** What a host the service tree lists for an environment has on disk, by its agent's word. */
export type HostState = HostApplyState;

export type HostStatus = HostApply & {
  /**
   * While the environment's configuration rides a rollout that has not reached the host yet: the
   * commit it is held at. The host's state is then judged against that snapshot, not the newest.
   */
  readonly heldAt?: string;
  /** While the host serves its consumer's drained files: by deploying service, the hosts drained. */
  readonly drained?: DrainedHosts;
};

export interface EnvironmentStatus {
  readonly service: string;
  readonly env: string;
  /** The hosts the service tree lists, when the service has files for agents to write. */
  readonly hosts: readonly HostStatus[];
  /** The revision whose files the environment serves: the commit (and tag) that last changed them. */
  readonly serves: { readonly commit: string; readonly tag?: string };
  readonly files: number;
  readonly instances: readonly InstanceStatus[];
}

export interface CairnStatus {
  /** The root znode read. */
  readonly root: string;
  readonly head?: HeadRecord;
  /** The commit the syncer last refused, until a later commit mirrors: it is not served. */
  readonly refused?: RefusalRecord;
  /** The head commit's history record: what it changed, and who approved it. */
  readonly history?: HistoryRecord;
  /** Syncer replicas in election order: the first is the leader. */
  readonly syncers: readonly string[];
  readonly environments: readonly EnvironmentStatus[];
}

/** Reads what ZooKeeper says about Cairn: the mirrored commit, the syncers, every instance. */
export async function readStatus(session: ZkSession, layout: ZkLayout): Promise<CairnStatus> {
  const headNode = await session.getIfExists(layout.head());
  const head = headNode ? decodeHeadRecord(headNode.data, layout.head()) : undefined;
  const historyNode = head ? await session.getIfExists(layout.historyRecord(head.seq)) : undefined;
  const history =
    head && historyNode ? decodeHistoryRecord(historyNode.data, layout.historyRecord(head.seq)) : undefined;
  const refusedNode = await session.getIfExists(layout.refused());
  const refused = refusedNode ? decodeRefusalRecord(refusedNode.data, layout.refused()) : undefined;
  const syncers = await candidateIds(session, {
    dir: layout.syncersDir(),
    candidatePath: (name) => layout.syncerCandidate(name),
  });
  const agents = await readAgents(session, layout);
  const environments: EnvironmentStatus[] = [];
  for (const service of (await session.childrenIfExists(layout.configDir())).sort()) {
    const serviceNode = await session.getIfExists(layout.service(service));
    const tree = serviceNode ? decodeServiceRecord(serviceNode.data, layout.service(service)) : undefined;
    for (const env of (await session.childrenIfExists(layout.configService(service))).sort()) {
      const pointerPath = layout.environment(service, env);
      const pointerNode = await session.getIfExists(pointerPath);
      if (!pointerNode) continue;
      const pointer = decodeEnvironmentPointer(pointerNode.data, pointerPath);
      const assignments = pointer.rollout
        ? await readAssignments(session, layout, service, env)
        : new Map<string, HostAssignmentRecord>();
      /**
       * What `host` should serve: the drained files of a consumer while hosts it routes to deploy
       * (the newest commit's, with those hosts marked), else the commit a rollout holds it at when
       * that is not the newest.
       */
      const servedBy = (host: string): { manifest: string; heldAt?: string; drained?: DrainedHosts } => {
        const assignment = assignments.get(host);
        const { source, ref } = servedSnapshotRef(pointer, host, assignment);
        const drained = source === 'assignment' ? drainingHostsOf(assignment) : undefined;
        if (drained) return { manifest: ref.manifest, drained };
        return {
          manifest: ref.manifest,
          ...(ref.manifest !== pointer.manifest ? { heldAt: ref.revision.commit } : {}),
        };
      };
      const manifests = new Map<string, Promise<ReadonlyMap<string, string> | undefined>>();
      const filesOf = (manifest: string) => {
        let files = manifests.get(manifest);
        if (!files) {
          files = readManifestFiles(session, layout, manifest);
          manifests.set(manifest, files);
        }
        return files;
      };
      const instances: InstanceStatus[] = [];
      for (const id of (await session.childrenIfExists(layout.instances(service, env))).sort()) {
        const path = layout.instance(service, env, id);
        const data = (await session.getIfExists(path))?.data;
        if (!data) continue;
        let record: InstanceRecord;
        try {
          record = decodeInstanceRecord(data, path);
        } catch {
          // Not an instance record: status shows what it can read.
          continue;
        }
        const { manifest, heldAt, drained } = servedBy(record.host);
        instances.push({
          record,
          state: stateOf(record, await filesOf(manifest)),
          ...(heldAt ? { heldAt } : {}),
          ...(drained ? { drained } : {}),
        });
      }
      const declared = tree?.files ? (tree.environments[env]?.hosts ?? []) : [];
      environments.push({
        service,
        env,
        hosts: declared.map(({ host }) => {
          const { manifest, heldAt, drained } = servedBy(host);
          const apply = hostApplyState(host, agents.get(host), service, env, manifest);
          return { ...apply, ...(heldAt ? { heldAt } : {}), ...(drained ? { drained } : {}) };
        }),
        serves: {
          commit: pointer.revision.commit,
          ...(pointer.revision.tag ? { tag: pointer.revision.tag } : {}),
        },
        files: pointer.files,
        instances,
      });
    }
  }
  return {
    root: layout.root,
    ...(head ? { head } : {}),
    ...(refused ? { refused } : {}),
    ...(history ? { history } : {}),
    syncers,
    environments,
  };
}

/** Whether status should end with exit 1: something does not serve what it should. */
export function statusHasFindings(status: CairnStatus): boolean {
  return (
    status.head === undefined ||
    status.refused !== undefined ||
    status.environments.some(
      (env) =>
        env.instances.some((i) => i.state === 'behind') ||
        env.hosts.some((h) => h.state === 'behind' || h.state === 'rejected' || h.state === 'failed'),
    )
  );
}

/** An environment's host assignments, by host (a rollout of its configuration writes them). */
async function readAssignments(
  session: ZkSession,
  layout: ZkLayout,
  service: string,
  env: string,
): Promise<Map<string, HostAssignmentRecord>> {
  const assignments = new Map<string, HostAssignmentRecord>();
  for (const host of await session.childrenIfExists(layout.assignments(service, env))) {
    const path = layout.assignment(service, env, host);
    const node = await session.getIfExists(path);
    if (node) assignments.set(host, decodeHostAssignmentRecord(node.data, path));
  }
  return assignments;
}

/** The files (path → content id) of a manifest, or undefined when it cannot be read. */
async function readManifestFiles(
  session: ZkSession,
  layout: ZkLayout,
  manifest: string,
): Promise<ReadonlyMap<string, string> | undefined> {
  const path = layout.content(manifest);
  const node = await session.getIfExists(path);
  return node ? decodeEnvironmentManifest(node.data, path).files : undefined;
}

/** Every agent's record, by host. */
async function readAgents(session: ZkSession, layout: ZkLayout): Promise<Map<string, AgentRecord>> {
  const agents = new Map<string, AgentRecord>();
  for (const host of await session.childrenIfExists(layout.agentsDir())) {
    const path = layout.agent(host);
    const node = await session.getIfExists(path);
    if (!node) continue;
    try {
      agents.set(host, decodeAgentRecord(node.data, path));
    } catch {
      // Not an agent record: the host shows as having no agent.
    }
  }
  return agents;
}

/** Current when it serves exactly the files, by content id, that the environment holds. */
function stateOf(record: InstanceRecord, wanted: ReadonlyMap<string, string> | undefined): InstanceState {
  if (!record.commit) return 'starting';
  if (!wanted) return 'behind';
  return instanceServes(record, wanted) ? 'current' : 'behind';
}

/** A drain assignment's drained hosts, when it drains any (one that names the pointer's files again has none). */
function drainingHostsOf(assignment: HostAssignmentRecord | undefined): DrainedHosts | undefined {
  const drain = assignment?.drain;
  if (!drain) return undefined;
  const draining = Object.entries(drain).filter(([, hosts]) => hosts.length > 0);
  return draining.length > 0 ? Object.fromEntries(draining) : undefined;
}
