import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ServiceConfig } from '../../sdk/index.js';
import { waitFor } from '../harness/index.js';
import { EXAMPLE_REPO_DIR } from '../support/example-repo.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { boundMirror, recordEvents } from './sdk-test-support.js';

describe('offline mode: a client that reads a config repository directory', () => {
  let f: SyncerFixture;
  let dir: string;
  const clients: ServiceConfig[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
    await boundMirror(f).sync();
    dir = await mkdtemp(join(tmpdir(), 'cairn-offline-'));
    await cp(f.work.dir, dir, { recursive: true, filter: (source) => !source.includes('/.git') });
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await f?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const open = async (service: string, env: string, from = dir) => {
    const client = await connect({ from, service, env });
    clients.push(client);
    return client;
  };

  it('serves exactly the files the syncer mirrors into ZooKeeper, overlays and templates applied', async () => {
    for (const [service, env] of [
      ['recommender', 'dev'],
      ['search-api', 'staging'],
      ['edge-gateway', 'dev'],
      ['nightly-reports', 'dev'],
    ] as const) {
      const offline = await open(service, env);
      const online = await connect({ zk: f.zk.connectString, service, env, instance: false });
      try {
        expect(offline.source).toBe('directory');
        expect(offline.files()).toEqual(online.files());
        for (const file of online.files())
          expect(
            Buffer.from(offline.bytes(file)).equals(online.bytes(file)),
            `${service}/${env}/${file}`,
          ).toBe(true);
      } finally {
        await online.close();
      }
    }
  });

  it('hears a change of the files, and keeps its configuration through a broken edit', async () => {
    const config = await open('recommender', 'dev');
    const events = recordEvents(config);
    const results: number[] = [];
    config.watchValue('application.yaml', 'ranking.maxResults', (n) => results.push(n), { default: 50 });
    expect(config.value('application.yaml', 'ranking.maxResults', { default: 50 })).toBe(40);
    const overlay = join(dir, 'services/recommender/config/@dev/application.yaml');
    await writeFile(overlay, 'ranking:\n  maxResults: 7\nlogging:\n  level: debug\n');
    await waitFor(() => results.length === 1, { description: 'the value watcher' });
    expect(results).toEqual([7]);
    expect(events.changes).toHaveLength(1);
    expect(events.changes[0]?.files.map((file) => file.file)).toEqual(['application.yaml']);

    await writeFile(overlay, 'ranking: [unclosed\n');
    await waitFor(() => events.warnings.some((w) => w.code === 'SNAPSHOT_READ_FAILED'), {
      description: 'the warning about the broken edit',
    });
    expect(events.warnings[0]?.message).toContain('not a valid config repository');
    expect(config.value('application.yaml', 'ranking.maxResults')).toBe(7);
    await writeFile(overlay, 'ranking:\n  maxResults: 9\n');
    await waitFor(() => results.length === 2, { description: 'the repaired edit' });
    expect(results).toEqual([7, 9]);
  });

  it('refuses what cannot work with coded errors', async () => {
    await expect(
      connect({ from: join(dir, 'no-such-dir'), service: 'recommender', env: 'dev' }),
    ).rejects.toMatchObject({
      code: 'REPO_NOT_FOUND',
    });
    await expect(connect({ from: dir, service: 'no-such-service', env: 'dev' })).rejects.toMatchObject({
      code: 'ENVIRONMENT_NOT_FOUND',
      message: expect.stringContaining(dir),
    });
    const broken = await mkdtemp(join(tmpdir(), 'cairn-offline-broken-'));
    try {
      await cp(EXAMPLE_REPO_DIR, broken, { recursive: true });
      await writeFile(join(broken, 'services/recommender/service.yaml'), 'owners: 42\n');
      await expect(connect({ from: broken, service: 'recommender', env: 'dev' })).rejects.toMatchObject({
        code: 'CONFIG_REPO_INVALID',
      });
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
    await expect(
      connect({ from: dir, zk: f.zk.connectString, service: 'recommender', env: 'dev' }),
    ).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
      option: 'zk',
    });
    const config = await open('recommender', 'dev');
    await expect(config.elect('nightly-export', {})).rejects.toMatchObject({ code: 'CLIENT_OFFLINE' });
  });
});
