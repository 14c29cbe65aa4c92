import {
  CONTENT_ID,
  candidateIds,
  decodeEnvironmentManifest,
  decodeEnvironmentPointer,
  decodeHeadRecord,
  decodeHistoryRecord,
  decodeInstanceRecord,
  type HeadRecord,
  type HistoryRecord,
  type InstanceRecord,
  type ZkLayout,
  type ZkSession,
} from '../../core/index.js';

/** Whether an instance serves the files ZooKeeper holds for its environment now. */
export type InstanceState = 'current' | 'behind' | 'starting';

export interface InstanceStatus {
  readonly record: InstanceRecord;
  readonly state: InstanceState;
}

export interface EnvironmentStatus {
  readonly service: string;
  readonly env: string;
  /** The revision whose files the environment serves: the commit (and tag) that last changed them. */
  readonly serves: { readonly commit: string; readonly tag?: string };
  readonly files: number;
  readonly instances: readonly InstanceStatus[];
}

export interface CairnStatus {
  readonly head?: HeadRecord;
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
  const syncers = await candidateIds(session, {
    dir: layout.syncersDir(),
    candidatePath: (name) => layout.syncerCandidate(name),
  });
  const environments: EnvironmentStatus[] = [];
  for (const service of (await session.childrenIfExists(layout.configDir())).sort()) {
    for (const env of (await session.childrenIfExists(layout.configService(service))).sort()) {
      const pointerPath = layout.environment(service, env);
      const pointerNode = await session.getIfExists(pointerPath);
      if (!pointerNode) continue;
      const pointer = decodeEnvironmentPointer(pointerNode.data, pointerPath);
      const manifestPath = layout.content(pointer.manifest);
      const manifestNode = await session.getIfExists(manifestPath);
      const wanted = manifestNode
        ? decodeEnvironmentManifest(manifestNode.data, manifestPath).files
        : undefined;
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
        instances.push({ record, state: stateOf(record, wanted) });
      }
      environments.push({
        service,
        env,
        serves: {
          commit: pointer.revision.commit,
          ...(pointer.revision.tag ? { tag: pointer.revision.tag } : {}),
        },
        files: pointer.files,
        instances,
      });
    }
  }
  return { ...(head ? { head } : {}), ...(history ? { history } : {}), syncers, environments };
}

/** Current when it serves exactly the files, by content id, that the environment holds. */
function stateOf(record: InstanceRecord, wanted: ReadonlyMap<string, string> | undefined): InstanceState {
  if (!record.commit) return 'starting';
  if (!wanted) return 'behind';
  const served = record.files;
  const same =
    Object.keys(served).length === wanted.size &&
    [...wanted].every(([path, id]) => CONTENT_ID.test(id) && served[path] === id);
  return same ? 'current' : 'behind';
}
