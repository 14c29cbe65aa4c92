import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type ServiceConfig } from '../../sdk/index.js';
import { waitFor } from '../harness/index.js';
import { runCliCaptured } from '../support/run-cli.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

describe('cairn status', () => {
  let f: SyncerFixture;
  let service: ServiceConfig | undefined;
  beforeAll(async () => {
    f = await startSyncerFixture();
    await f.newMirror().sync(f.target);
  });
  afterAll(async () => {
    await service?.close();
    await f?.close();
  });

  const status = (...args: string[]) => runCliCaptured(['status', '--zk', f.zk.connectString, ...args]);

  it('shows the head, the leader-less syncers and every instance, and who is behind', async () => {
    service = await connect({
      zk: f.zk.connectString,
      service: 'recommender',
      env: 'dev',
      instance: { host: 'rec-dev-01', port: 8080, id: 'rec-dev-01' },
    });
    const head = await f.work.head();
    const current = await status();
    expect(current).toMatchObject({ code: 0, stderr: '' });
    expect(current.stdout).toContain(`head     ${head.slice(0, 12)}  Import the Northwind configuration`);
    expect(current.stdout).toContain('syncers  none running');
    expect(current.stdout).toMatch(
      new RegExp(
        `recommender +dev +${head.slice(0, 12)} +rec-dev-01:8080 pid \\d+ +${head.slice(0, 12)} +current`,
      ),
    );
    expect(current.stdout).toContain('every instance serves what ZooKeeper holds');

    // An instance that still serves an older commit's files shows as behind, and the exit status says so.
    await f.session.create(
      f.layout.instance('recommender', 'dev', 'rec-dev-02'),
      Buffer.from(
        JSON.stringify({
          id: 'rec-dev-02',
          host: 'rec-dev-02',
          pid: 7,
          startedAt: new Date().toISOString(),
          commit: 'f'.repeat(40),
          source: 'cache',
          files: { 'application.yaml': '0'.repeat(40) },
        }),
      ),
      'ephemeral',
    );
    const behind = await status();
    expect(behind.code).toBe(1);
    expect(behind.stdout).toMatch(/rec-dev-02 pid 7 +ffffffffffff +behind, from cache/);
    expect(behind.stdout).toContain('1 instance(s) behind');

    const json = JSON.parse((await status('--format', 'json')).stdout);
    expect(json.head.commit).toBe(head);
    const dev = json.environments.find(
      (e: { service: string; env: string }) => e.service === 'recommender' && e.env === 'dev',
    );
    expect(
      dev.instances.map((i: { record: { id: string }; state: string }) => [i.record.id, i.state]),
    ).toEqual([
      ['rec-dev-01', 'current'],
      ['rec-dev-02', 'behind'],
    ]);
  });

  it('follows an instance as it applies a new commit', async () => {
    await f.work.write({ 'services/recommender/config/rules/new.yaml': 'x: 1\n' });
    const next = await f.work.commit('Add a rule');
    await f.work.push(f.repoUrl);
    await f.newMirror().sync(f.target);
    await waitFor(() => service?.commit === next, {
      description: 'the instance applies the commit',
      timeoutMs: 10_000,
    });
    await waitFor(
      async () =>
        (await status()).stdout.includes(`rec-dev-01:8080 pid ${process.pid}  ${next.slice(0, 12)}  current`),
      { description: 'status shows it', timeoutMs: 10_000 },
    );
  });

  it('explains a missing --zk', async () => {
    const run = await runCliCaptured(['status']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('cairn: no ZooKeeper: pass --zk <host:port,...> or set CAIRN_ZK\n');
  });

  it("gets an environment's files and one file's content, as ZooKeeper serves them", async () => {
    const run = (...args: string[]) => runCliCaptured(['get', '--zk', f.zk.connectString, ...args]);

    const list = await run('recommender', 'prod');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`# recommender/prod at ${await f.work.head()}`);
    expect(list.stdout).toMatch(/^[0-9a-f]{40} +\d+ {2}rules\/boost\.yaml$/m);
    const file = await run('recommender', 'prod', 'application.yaml');
    expect(file.stdout).toContain('maxConcurrentRequests: 1200');
    expect((await run('recommender', 'prod', 'nope.yaml')).stderr).toContain(
      'recommender/prod has no nope.yaml; it has: application.yaml',
    );
    expect((await run('recommender', 'qa')).code).toBe(1);
  });
});
