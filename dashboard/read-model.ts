import {
  type AgentRecord,
  type CairnStatus,
  CONTENT_ID,
  type DeploymentRecord,
  type DeploymentStatus,
  type Drift,
  decodeAgentRecord,
  decodeEnvironmentManifest,
  decodeEnvironmentPointer,
  decodeHistoryRecord,
  decodeServiceRecord,
  type HistoryEntry,
  newestDeployments,
  readDeployLog,
  readDeploymentStatus,
  readHistory,
  readStatus,
  type ZkLayout,
  type ZkSession,
} from '../core/index.js';
import { DashboardNotFoundError } from './errors.js';
import { type LineDiff, lineDiff } from './line-diff.js';

/**
 * What the dashboard shows, read from ZooKeeper through the same readers as `cairn status`,
 * `cairn history` and `cairn deploy status`, so the page and the terminal never disagree.
 */

/** The first page: the head, every environment with its hosts and instances, the newest deployments. */
export interface Overview {
  readonly status: CairnStatus;
  /** Who owns each service, by the service tree. */
  readonly services: Readonly<
    Record<string, { readonly description: string; readonly owners: readonly string[] }>
  >;
  /** Files an agent found changed on disk, per host and `service/env`. */
  readonly drift: Readonly<Record<string, Readonly<Record<string, readonly Drift[]>>>>;
  readonly deployments: readonly DeploymentRecord[];
}

export interface FilePage {
  readonly service: string;
  readonly env: string;
  readonly commit: string;
  /** Files matching the filter, before paging. */
  readonly total: number;
  readonly offset: number;
  readonly files: readonly { readonly path: string; readonly id: string }[];
}

export interface FileContent {
  readonly path: string;
  readonly id: string;
  readonly size: number;
  /** The bytes as UTF-8 text, unless they are not text. */
  readonly text?: string;
}

export interface DeploymentView extends DeploymentStatus {
  /** The tail of each host's deploy output, as text. */
  readonly logs: Readonly<Record<string, string>>;
}

/** What one mirrored commit changed in each environment, file by file, by content id. */
export interface CommitChanges {
  readonly seq: number;
  readonly commit: string;
  /** The repository paths the commit changed (bounded in the history record), and how many in all. */
  readonly changed: readonly string[];
  readonly changedCount: number;
  readonly environments: readonly {
    readonly service: string;
    readonly env: string;
    /** False when a snapshot was collected (older than the retention): the files cannot be compared. */
    readonly comparable: boolean;
    readonly files: readonly FileChange[];
  }[];
}

export interface FileChange {
  readonly path: string;
  readonly change: 'added' | 'removed' | 'modified';
  readonly from?: string;
  readonly to?: string;
}

export const MAX_PAGE = 500;
/** At most this many changed files per environment in one answer. */
const MAX_CHANGES = 1000;

export async function readOverview(session: ZkSession, layout: ZkLayout): Promise<Overview> {
  const status = await readStatus(session, layout);
  const services: Record<string, { description: string; owners: string[] }> = {};
  for (const service of new Set(status.environments.map((e) => e.service))) {
    const node = await session.getIfExists(layout.service(service));
    if (!node) continue;
    const record = decodeServiceRecord(node.data, layout.service(service));
    services[service] = { description: record.description, owners: [...record.owners] };
  }
  const drift: Record<string, Record<string, readonly Drift[]>> = {};
  for (const [host, agent] of await readAgents(session, layout)) {
    const drifting = Object.entries(agent.services).filter(([, state]) => state.drift.length > 0);
    if (drifting.length > 0)
      drift[host] = Object.fromEntries(drifting.map(([key, state]) => [key, state.drift]));
  }
  return { status, services, drift, deployments: await newestDeployments(session, layout) };
}

export function readHistoryPage(
  session: ZkSession,
  layout: ZkLayout,
  limit: number,
): Promise<HistoryEntry[]> {
  return readHistory(session, layout, limit);
}

/** One page of an environment's files, in path order; `filter` keeps paths containing it. */
export async function readFilePage(
  session: ZkSession,
  layout: ZkLayout,
  service: string,
  env: string,
  page: { offset: number; limit: number; filter?: string },
): Promise<FilePage> {
  const { commit, files } = await readManifest(session, layout, service, env);
  const paths = [...files.keys()].filter((path) => !page.filter || path.includes(page.filter)).sort();
  const limit = Math.min(page.limit, MAX_PAGE);
  return {
    service,
    env,
    commit,
    total: paths.length,
    offset: page.offset,
    files: paths.slice(page.offset, page.offset + limit).map((path) => ({ path, id: files.get(path) ?? '' })),
  };
}

/** One effective file of an environment as ZooKeeper serves it now. */
export async function readFileContent(
  session: ZkSession,
  layout: ZkLayout,
  service: string,
  env: string,
  path: string,
): Promise<FileContent> {
  const { files } = await readManifest(session, layout, service, env);
  const id = files.get(path);
  if (!id) throw new DashboardNotFoundError(`${service} ${env} has no file ${path}`);
  const node = await session.getIfExists(layout.content(id));
  // Collected after the pointer moved on: the page reads the pointer again on its next update.
  if (!node) throw new DashboardNotFoundError(`${service} ${env} no longer serves ${path} as ${id}`);
  return contentOf(path, id, node.data);
}

/** A deployment, its tasks, claims and the tail of every host's log. */
export async function readDeploymentView(
  session: ZkSession,
  layout: ZkLayout,
  ref: { service: string; env: string; id: string },
): Promise<DeploymentView> {
  if (!(await session.exists(layout.deployment(ref.service, ref.env, ref.id))))
    throw new DashboardNotFoundError(`no deployment ${ref.id} of ${ref.service} in ${ref.env}`);
  const status = await readDeploymentStatus(session, layout, ref);
  const logs: Record<string, string> = {};
  for (const host of Object.keys(status.tasks)) {
    const log = await readDeployLog(session, layout, ref, host);
    if (log.length > 0) logs[host] = log.toString('utf8');
  }
  return { ...status, logs };
}

/** What the commit with history number `seq` changed: its snapshots' manifests, compared. */
export async function readCommitChanges(
  session: ZkSession,
  layout: ZkLayout,
  seq: number,
): Promise<CommitChanges> {
  const path = layout.historyRecord(seq);
  const node = await session.getIfExists(path);
  if (!node)
    throw new DashboardNotFoundError(`no mirrored commit #${seq}: the history keeps the newest ones`);
  const record = decodeHistoryRecord(node.data, path);
  const environments = [];
  for (const change of record.snapshots) {
    const before = change.from
      ? await manifestFiles(session, layout, change.from)
      : new Map<string, string>();
    const after = change.to ? await manifestFiles(session, layout, change.to) : new Map<string, string>();
    if (!before || !after) {
      environments.push({ service: change.service, env: change.env, comparable: false, files: [] });
      continue;
    }
    const files: FileChange[] = [];
    for (const file of [...new Set([...before.keys(), ...after.keys()])].sort()) {
      const from = before.get(file);
      const to = after.get(file);
      if (from === to) continue;
      files.push({
        path: file,
        change: from === undefined ? 'added' : to === undefined ? 'removed' : 'modified',
        ...(from ? { from } : {}),
        ...(to ? { to } : {}),
      });
    }
    environments.push({
      service: change.service,
      env: change.env,
      comparable: true,
      files: files.slice(0, MAX_CHANGES),
    });
  }
  return {
    seq: record.seq,
    commit: record.commit,
    changed: record.changed,
    changedCount: record.changedCount,
    environments,
  };
}

/** Immutable file bytes by content id, as text when they are text (a commit's before and after). */
export async function readContent(session: ZkSession, layout: ZkLayout, id: string): Promise<FileContent> {
  if (!CONTENT_ID.test(id))
    throw new DashboardNotFoundError(`${id} is not a content id (40 hexadecimal digits)`);
  const node = await session.getIfExists(layout.content(id));
  if (!node) throw new DashboardNotFoundError(`content ${id} is no longer kept (older than the retention)`);
  return contentOf(id, id, node.data);
}

/** A file's two versions by content id, compared line by line; text only. */
export type FileDiff = { readonly from: string; readonly to: string } & (
  | LineDiff
  | { readonly comparable: false; readonly notText: true }
);

/** The line diff of two versions of a file (a modified file's `from` and `to` in a commit's changes). */
export async function readFileDiff(
  session: ZkSession,
  layout: ZkLayout,
  from: string,
  to: string,
): Promise<FileDiff> {
  const [before, after] = [await readContent(session, layout, from), await readContent(session, layout, to)];
  if (before.text === undefined || after.text === undefined)
    return { from, to, comparable: false, notText: true };
  return { from, to, ...lineDiff(before.text, after.text) };
}

async function manifestFiles(
  session: ZkSession,
  layout: ZkLayout,
  id: string,
): Promise<ReadonlyMap<string, string> | undefined> {
  const node = await session.getIfExists(layout.content(id));
  return node ? decodeEnvironmentManifest(node.data, layout.content(id)).files : undefined;
}

function contentOf(path: string, id: string, data: Uint8Array): FileContent {
  const bytes = Buffer.from(data);
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    // Not UTF-8: the page says so rather than showing garbage.
  }
  return { path, id, size: bytes.length, ...(text !== undefined && !text.includes('\0') ? { text } : {}) };
}

async function readManifest(
  session: ZkSession,
  layout: ZkLayout,
  service: string,
  env: string,
): Promise<{ commit: string; files: ReadonlyMap<string, string> }> {
  const pointerPath = layout.environment(service, env);
  const pointerNode = await session.getIfExists(pointerPath);
  if (!pointerNode) throw new DashboardNotFoundError(`no environment ${env} of service ${service}`);
  const pointer = decodeEnvironmentPointer(pointerNode.data, pointerPath);
  const manifestPath = layout.content(pointer.manifest);
  const manifestNode = await session.getIfExists(manifestPath);
  if (!manifestNode) throw new DashboardNotFoundError(`${service} ${env}: its manifest was replaced; reload`);
  return {
    commit: pointer.revision.commit,
    files: decodeEnvironmentManifest(manifestNode.data, manifestPath).files,
  };
}

async function readAgents(session: ZkSession, layout: ZkLayout): Promise<Map<string, AgentRecord>> {
  const agents = new Map<string, AgentRecord>();
  for (const host of (await session.childrenIfExists(layout.agentsDir())).sort()) {
    const node = await session.getIfExists(layout.agent(host));
    if (!node) continue;
    try {
      agents.set(host, decodeAgentRecord(node.data, layout.agent(host)));
    } catch {
      // Not an agent record: `cairn status` shows that host as having no agent, and so does the page.
    }
  }
  return agents;
}
