import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FencedWriter, ZkSession } from '../../core/index.js';
import type { ConfigChange, RejectedChange, SdkWarning, ServiceConfig } from '../../sdk/index.js';
import { openGitSource } from '../../syncer/git/index.js';
import { Mirror, type SyncOutcome, type SyncTarget } from '../../syncer/mirror.js';
import { quietLogger, type SyncerFixture } from '../support/syncer-fixture.js';

/** A mirror and where it writes: `sync()` mirrors the branch head. */
export interface BoundMirror {
  readonly mirror: Mirror;
  readonly target: SyncTarget;
  sync(): Promise<SyncOutcome>;
}

/** A new Mirror writing through the fixture's session. */
export function boundMirror(f: SyncerFixture): BoundMirror {
  const mirror = f.newMirror();
  return { mirror, target: f.target, sync: () => mirror.sync(f.target) };
}

/** Commits files to the work repo, pushes, and mirrors the commit into ZooKeeper; returns its sha. */
export async function commitAndSync(
  f: SyncerFixture,
  mirror: BoundMirror,
  message: string,
  files: Record<string, string | Uint8Array | null>,
): Promise<string> {
  await f.work.write(files);
  const commit = await f.work.commit(message);
  await f.work.push(f.repoUrl);
  const outcome = await mirror.sync();
  if (outcome.kind !== 'mirrored')
    throw new Error(`expected ${commit} to be mirrored, got ${JSON.stringify(outcome)}`);
  return commit;
}

/** Everything a client emits, in order, for assertions. */
export interface ClientEvents {
  readonly changes: ConfigChange[];
  readonly rejected: RejectedChange[];
  readonly warnings: SdkWarning[];
  readonly sources: string[];
  readonly connection: string[];
}

export function recordEvents(config: ServiceConfig): ClientEvents {
  const events: ClientEvents = { changes: [], rejected: [], warnings: [], sources: [], connection: [] };
  config.on('change', (change) => events.changes.push(change));
  config.on('rejected', (rejected) => events.rejected.push(rejected));
  config.on('warning', (warning) => events.warnings.push(warning));
  config.on('source', (source) => events.sources.push(source));
  config.on('connection', (state) => events.connection.push(state));
  return events;
}

/** A temp dir removed by the returned function. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Two files changed in every commit of a consistency test, always to the same number. */
export function pair(n: number, padding = ''): Record<string, string> {
  const pad = padding ? `pad: "${padding}"\n` : '';
  return {
    'services/recommender/config/pair/a.yaml': `n: ${n}\n${pad}`,
    'services/recommender/config/pair/b.yaml': `n: ${n}\n${pad}`,
  };
}

/**
 * Watches a client for mixed snapshots: in every change callback both files of the pair must be in
 * the batch and get() must return the same n for both. Returns the n of each callback, in order.
 */
export function checkPairs(config: ServiceConfig): { seen: number[]; mixed: string[] } {
  const seen: number[] = [];
  const mixed: string[] = [];
  config.on('change', (change) => {
    const paths = change.files.map((file) => file.file);
    if (!paths.includes('pair/a.yaml')) return;
    const a = config.get<{ n: number }>('pair/a.yaml').n;
    const b = config.get<{ n: number }>('pair/b.yaml').n;
    if (a !== b || !paths.includes('pair/b.yaml'))
      mixed.push(`commit ${change.commit}: a=${a} b=${b}, files ${paths.join(',')}`);
    seen.push(a);
  });
  return { seen, mixed };
}

/**
 * A mirror on a session of its own. After a ZooKeeper restart, open a new one rather than reuse the
 * fixture's session: that one may have expired during the outage, and nothing in the fixture renews it.
 */
export async function openMirror(
  f: SyncerFixture,
  connectString = f.zk.connectString,
): Promise<{ mirror: BoundMirror; session: ZkSession; close(): Promise<void> }> {
  const session = await ZkSession.connect({ connectString, sessionTimeoutMs: 5000 });
  const source = openGitSource({ url: f.repoUrl, branch: 'main', cacheDir: f.cacheDir });
  const mirror = new Mirror({ layout: f.layout, source, branch: 'main', logger: quietLogger });
  const fence = await session.create('/mirror-fence-', new Uint8Array(0), 'ephemeral-sequential');
  const target: SyncTarget = {
    session,
    writer: new FencedWriter(session, () => ({ op: 'check', path: fence, version: 0 })),
    term: Date.now(),
  };
  return {
    mirror: { mirror, target, sync: () => mirror.sync(target) },
    session,
    async close() {
      source.close();
      await session.close();
    },
  };
}
