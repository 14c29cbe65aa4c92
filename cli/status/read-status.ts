import type { EnvironmentIndex, ZkLayout, ZkSession } from '../../core/index.js';
import { decodeInstanceRecord, type InstanceRecord } from '../../sdk/index.js';
import { decodeHeadRecord, type HeadRecord } from '../../syncer/index.js';

/** Whether an instance serves the files ZooKeeper holds for its environment now. */
export type InstanceState = 'current' | 'behind' | 'starting';

export interface InstanceStatus {
  readonly record: InstanceRecord;
  readonly state: InstanceState;
}

export interface EnvironmentStatus {
  readonly service: string;
  readonly env: string;
  /** The commit (and tag) /head says the environment serves; absent when nothing is released to it. */
  readonly serves?: { readonly commit: string; readonly tag?: string };
  readonly files: number;
  readonly instances: readonly InstanceStatus[];
}

export interface CairnStatus {
  readonly head?: HeadRecord;
  /** Syncer replicas in election order: the first is the leader. */
  readonly syncers: readonly string[];
  readonly environments: readonly EnvironmentStatus[];
}

/** Reads what ZooKeeper says about Cairn: the mirrored commit, the syncers, every instance. */
export async function readStatus(session: ZkSession, layout: ZkLayout): Promise<CairnStatus> {
  const head = (await session.getIfExists(layout.head()))?.data;
  const syncers = await readSyncers(session, layout);
  const environments: EnvironmentStatus[] = [];
  for (const service of (await session.childrenIfExists(layout.configDir())).sort()) {
    for (const env of (await session.childrenIfExists(layout.configService(service))).sort()) {
      const indexData = (await session.getIfExists(layout.configEnv(service, env)))?.data;
      if (!indexData) continue;
      const index = JSON.parse(indexData.toString('utf8')) as EnvironmentIndex;
      const instances: InstanceStatus[] = [];
      for (const id of (await session.childrenIfExists(layout.instances(service, env))).sort()) {
        const data = (await session.getIfExists(layout.instance(service, env, id)))?.data;
        const record = data ? decodeInstanceRecord(data) : undefined;
        if (record) instances.push({ record, state: stateOf(record, index) });
      }
      const headRecord = head ? decodeHeadRecord(layout.head(), head) : undefined;
      const serves = headRecord?.environments?.[env];
      environments.push({
        service,
        env,
        ...(serves ? { serves: { commit: serves.commit, ...(serves.tag ? { tag: serves.tag } : {}) } } : {}),
        files: Object.keys(index.files).length,
        instances,
      });
    }
  }
  return { ...(head ? { head: decodeHeadRecord(layout.head(), head) } : {}), syncers, environments };
}

/** Current when it serves exactly the files, by content id, that the environment holds. */
function stateOf(record: InstanceRecord, index: EnvironmentIndex): InstanceState {
  if (!record.commit) return 'starting';
  const served = record.files;
  const wanted = index.files;
  const same =
    Object.keys(served).length === Object.keys(wanted).length &&
    Object.entries(wanted).every(([path, id]) => served[path] === id);
  return same ? 'current' : 'behind';
}

async function readSyncers(session: ZkSession, layout: ZkLayout): Promise<string[]> {
  const candidates = (await session.childrenIfExists(layout.syncersDir())).sort((a, b) =>
    a.slice(-10).localeCompare(b.slice(-10)),
  );
  const ids: string[] = [];
  for (const candidate of candidates) {
    const data = (await session.getIfExists(`${layout.syncersDir()}/${candidate}`))?.data;
    if (data) ids.push(data.toString('utf8'));
  }
  return ids;
}
