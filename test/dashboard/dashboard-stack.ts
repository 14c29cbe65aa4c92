import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dashboard } from '../../dashboard/index.js';
import { resolveSyncerConfig, SyncerDaemon } from '../../syncer/index.js';
import { quietLogger, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

/** A syncer daemon serving the dashboard over a real ZooKeeper and git server, as `cairn sync --listen` runs it. */
export interface DashboardStack {
  readonly f: SyncerFixture;
  readonly daemon: SyncerDaemon;
  readonly dashboard: Dashboard;
  /** The dashboard's address, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Commits `files`, pushes, and has the daemon mirror the commit; resolves to its sha. */
  commit(files: Record<string, string>, message: string): Promise<string>;
  close(): Promise<void>;
}

export async function startDashboardStack(): Promise<DashboardStack> {
  const f = await startSyncerFixture();
  const cacheDir = await mkdtemp(join(tmpdir(), 'cairn-dashboard-cache-'));
  const config = resolveSyncerConfig(
    {
      repo: f.repoUrl,
      zk: f.zk.connectString,
      poll: '1h',
      listen: '127.0.0.1:0',
      webhookSecret: 'dashboard-test-secret',
      sessionTimeout: '4s',
      replicaId: 'dashboard-test',
      cacheDir,
    },
    {},
    { hostname: 'test', pid: 0 },
  );
  const dashboard = new Dashboard({ endpoint: config.endpoint, logger: quietLogger });
  const daemon = new SyncerDaemon(config, quietLogger, dashboard);
  dashboard.start();
  const { port } = await daemon.start();
  return {
    f,
    daemon,
    dashboard,
    url: `http://127.0.0.1:${port}`,
    async commit(files, message) {
      await f.work.write(files);
      const sha = await f.work.commit(message);
      await f.work.push(f.repoUrl);
      await daemon.syncNow();
      return sha;
    },
    async close() {
      await daemon.close();
      await f.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}
