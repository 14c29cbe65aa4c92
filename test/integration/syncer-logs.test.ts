import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSyncerConfig, SyncerDaemon } from '../../syncer/index.js';
import { waitFor } from '../harness/index.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

interface LogRecord {
  readonly level: number;
  readonly msg: string;
  readonly code?: string;
  readonly err?: unknown;
}

const WARN = 40;

describe('the syncer’s log of expected events', () => {
  let f: SyncerFixture;
  let proxy: TcpProxy;
  let daemon: SyncerDaemon;
  const records: LogRecord[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: f.zk.port });
    const config = resolveSyncerConfig(
      {
        repo: f.repoUrl,
        zk: proxy.connectString,
        poll: '1h',
        // Longer than the outage below: the session survives it, only the connection is lost.
        sessionTimeout: '30s',
        cacheDir: await mkdtemp(join(tmpdir(), 'cairn-logs-cache-')),
      },
      {},
      { hostname: 'test', pid: 0 },
    );
    daemon = new SyncerDaemon(
      config,
      pino({ level: 'debug' }, { write: (line: string) => records.push(JSON.parse(line)) }),
    );
    await daemon.start();
    await waitFor(() => daemon.status().mirrored, { description: 'the first mirror', timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await daemon?.close();
    await proxy?.close();
    await f?.close();
  });

  const warnings = () => records.filter((r) => r.level >= WARN);

  it('logs a lost and regained connection once each, as a warning with a code and no stack', async () => {
    const before = records.length;
    const attempts = proxy.connections;
    proxy.partition();
    await waitFor(() => !daemon.status().connected, { description: 'the loss noticed', timeoutMs: 30_000 });
    // Several attempts to reconnect fail meanwhile: none of them is logged as a warning again.
    await waitFor(() => proxy.connections >= attempts + 3, {
      description: 'three attempts to reconnect',
      timeoutMs: 30_000,
    });
    proxy.heal();
    await waitFor(() => daemon.status().connected, { description: 'reconnected', timeoutMs: 30_000 });

    const during = records.slice(before);
    const lost = during.filter((r) => r.msg.startsWith('lost the connection to ZooKeeper'));
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ level: WARN, code: 'CONNECTION_LOSS' });
    expect(during.filter((r) => r.msg === 'connected to ZooKeeper again')).toHaveLength(1);
    expect(during.filter((r) => r.level >= WARN && r.err !== undefined)).toEqual([]);
    // Passes that failed for want of the connection are not warned about one by one.
    expect(during.filter((r) => r.level >= WARN && r.code === 'CONNECTION_LOSS').map((r) => r.msg)).toEqual([
      expect.stringMatching(/^lost the connection/),
    ]);
  });

  it('logs a refused commit as a warning with its code and no stack', async () => {
    await f.work.write({ 'services/recommender/config/application.yaml': 'server: [unclosed\n' });
    const broken = await f.work.commit('Break the recommender');
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
    expect(daemon.status().refused?.commit).toBe(broken);
    const refusals = warnings().filter((r) => r.code === 'COMMIT_REFUSED');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.msg).toContain(`commit ${broken.slice(0, 12)} is not mirrored`);
    expect(warnings().filter((r) => r.err !== undefined)).toEqual([]);
  });
});
