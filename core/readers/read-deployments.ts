import { CairnError } from '../errors.js';
import {
  type DeploymentRecord,
  type DeploymentTaskRecord,
  decodeDeploymentRecord,
  decodeDeploymentTaskRecord,
  decodeLogChunk,
  isTerminalDeployment,
} from '../records/index.js';
import { deploymentSeqOf, logChunkSeqOf, type ZkLayout } from '../zk-layout.js';
import type { ZkSession } from '../zookeeper/index.js';

/** A deployment as `cairn deploy status` shows it: the record, its tasks and which hosts hold a claim. */
export interface DeploymentStatus {
  readonly deployment: DeploymentRecord;
  readonly tasks: Readonly<Record<string, DeploymentTaskRecord>>;
  readonly claims: readonly string[];
}

/** Which deployment a steering command acts on. */
export interface DeploymentRef {
  readonly service: string;
  readonly env: string;
  readonly id: string;
}

/** No deployment matches what the command names: says what exists instead. */
export class DeploymentNotFoundError extends CairnError {
  constructor(message: string) {
    super('DEPLOYMENT_NOT_FOUND', message);
  }
}

/** The newest deployment of every environment, in service and environment order. */
export async function newestDeployments(session: ZkSession, layout: ZkLayout): Promise<DeploymentRecord[]> {
  const out: DeploymentRecord[] = [];
  for (const service of (await session.childrenIfExists(layout.deploymentsDir())).sort()) {
    for (const env of (await session.childrenIfExists(layout.deploymentsService(service))).sort()) {
      const id = await newestId(session, layout, service, env);
      if (!id) continue;
      const node = await session.getIfExists(layout.deployment(service, env, id));
      if (node) out.push(decodeDeploymentRecord(node.data, layout.deployment(service, env, id)));
    }
  }
  return out;
}

async function newestId(session: ZkSession, layout: ZkLayout, service: string, env: string) {
  return (await session.childrenIfExists(layout.deployments(service, env)))
    .filter((id) => deploymentSeqOf(id) !== undefined)
    .sort()
    .at(-1);
}

/**
 * The deployment a command means: `<service> <env>` (and `--deployment <id>`) name it; without them,
 * the one deployment still open anywhere, or an error listing them.
 */
export async function resolveDeployment(
  session: ZkSession,
  layout: ZkLayout,
  target: { service?: string; env?: string; id?: string },
): Promise<DeploymentRef> {
  if (target.service !== undefined && target.env !== undefined) {
    const id = target.id ?? (await newestId(session, layout, target.service, target.env));
    if (!id || !(await session.exists(layout.deployment(target.service, target.env, id))))
      throw new DeploymentNotFoundError(
        `no deployment ${target.id ?? ''}${target.id ? ' ' : ''}of ${target.service} in ${target.env}: a deployment starts when a release manifest changes (cairn deploy status lists them)`,
      );
    return { service: target.service, env: target.env, id };
  }
  if (target.service !== undefined)
    throw new DeploymentNotFoundError('name both the service and the environment, e.g. search-api prod');
  const open = (await newestDeployments(session, layout)).filter((d) => !isTerminalDeployment(d.state));
  if (open.length === 1) {
    const [only] = open as [DeploymentRecord];
    return { service: only.service, env: only.env, id: only.id };
  }
  throw new DeploymentNotFoundError(
    open.length === 0
      ? 'no deployment is in progress: name the service and environment'
      : `${open.length} deployments are in progress (${open.map((d) => `${d.service} ${d.env}`).join(', ')}): name the service and environment`,
  );
}

export async function readDeploymentStatus(
  session: ZkSession,
  layout: ZkLayout,
  ref: DeploymentRef,
): Promise<DeploymentStatus> {
  const { service, env, id } = ref;
  const path = layout.deployment(service, env, id);
  const deployment = decodeDeploymentRecord((await session.get(path)).data, path);
  const tasks: Record<string, DeploymentTaskRecord> = {};
  for (const host of (await session.childrenIfExists(layout.deploymentTasks(service, env, id))).sort()) {
    const taskPath = layout.deploymentTask(service, env, id, host);
    const node = await session.getIfExists(taskPath);
    if (node) tasks[host] = decodeDeploymentTaskRecord(node.data, taskPath);
  }
  const claims = (await session.childrenIfExists(layout.deploymentClaims(service, env, id))).sort();
  return { deployment, tasks, claims };
}

/** The tail of a host's deploy output, as the agent streamed it (its last chunks, in order). */
export async function readDeployLog(
  session: ZkSession,
  layout: ZkLayout,
  ref: DeploymentRef,
  host: string,
): Promise<Buffer> {
  const folder = layout.deploymentLog(ref.service, ref.env, ref.id, host);
  const seqs = (await session.childrenIfExists(folder))
    .map((name) => logChunkSeqOf(name))
    .filter((seq): seq is number => seq !== undefined)
    .sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  for (const seq of seqs) {
    const path = layout.deploymentLogChunk(ref.service, ref.env, ref.id, host, seq);
    const node = await session.getIfExists(path);
    if (node) chunks.push(Buffer.from(decodeLogChunk(node.data, path)));
  }
  return Buffer.concat(chunks);
}
