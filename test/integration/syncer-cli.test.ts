import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHeadRecord, OWNER_FILE } from '../../core/index.js';
import { waitFor } from '../harness/index.js';
import { runCairn, spawnCairn } from '../support/cairn-process.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

describe('cairn sync --once', () => {
  let f: SyncerFixture;
  beforeAll(async () => {
    f = await startSyncerFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  const sync = (...extra: string[]) => runCairn([...f.syncOnceArgs(f.work.dir), ...extra]);

  it('mirrors example-config-repo from a local git repository exactly, then reports it up to date', async () => {
    const first = await sync();
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(
      `mirrored ${await f.work.head()} (${first.stdout.match(/\((\d+) znode/)?.[1]} znode operations in 1 transaction(s))\n`,
    );
    expect(await f.actualView()).toEqual(await f.expectedView());
    expect(decodeHeadRecord((await f.session.get(f.layout.head())).data).commit).toBe(await f.work.head());
    expect(await sync()).toMatchObject({ code: 0, stdout: `up to date at ${await f.work.head()}\n` });
  });

  it('mirrors over HTTP from the git server as well', async () => {
    await f.work.write({ 'services/recommender/config/over-http.yaml': 'a: 1\n' });
    await f.work.commit('Over HTTP');
    await f.work.push(f.repoUrl);
    const run = await runCairn(f.syncOnceArgs());
    expect(run.code).toBe(0);
    expect(await f.actualView()).toEqual(await f.expectedView());
  });

  it('exits 1 and prints the diagnostics when the head commit is invalid', async () => {
    const before = await f.actualView();
    await f.work.write({ 'services/search-api/config/index-settings.json': '{"broken": }\n' });
    const bad = await f.work.commit('Break JSON');
    const run = await sync();
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cairn: commit ${bad.slice(0, 12)} is not mirrored`);
    expect(run.stderr).toContain('services/search-api/config/index-settings.json:1:12: error json/syntax');
    expect(await f.actualView()).toEqual(before);
    await f.work.git('reset', '--hard', 'HEAD~1');
  });

  it('refuses a cache directory a running syncer holds, and takes it over once that syncer is killed', async () => {
    const args = f.syncOnceArgs();
    const daemon = spawnCairn(args.map((arg) => (arg === '--once' ? '--watch' : arg)));
    try {
      const owner = join(f.cacheDir, OWNER_FILE);
      await waitFor(
        async () => (await readFile(owner, 'utf8').catch(() => '')).includes(`"pid":${daemon.pid}`),
        {
          description: 'the watching syncer holds its cache directory',
          timeoutMs: 60_000,
        },
      );
      const refused = await runCairn(args);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(`is in use by another process (syncer pid ${daemon.pid} on `);
      expect(refused.stderr).toContain('give each syncer its own --cache-dir');
      expect(refused.stderr).not.toMatch(/^\s+at /m);
      expect(await readFile(owner, 'utf8')).toContain(`"pid":${daemon.pid}`);
    } finally {
      daemon.kill('SIGKILL');
      await once(daemon, 'exit');
    }
    // Killed, it left its claim behind: the next syncer takes it over.
    expect(await runCairn(args)).toMatchObject({ code: 0 });
  });

  it('explains a branch that does not exist', async () => {
    const run = await sync('--branch', 'no-such-branch');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('branch "no-such-branch" does not exist');
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('explains missing and malformed settings', async () => {
    expect(await runCairn(['sync', '--once', '--repo', f.work.dir])).toMatchObject({
      code: 2,
      stderr: 'cairn: no ZooKeeper: pass --zk <host:port,...> or set CAIRN_ZK\n',
    });
    expect((await runCairn(['sync', '--once', '--repo', f.work.dir, '--zk', 'not a host'])).stderr).toContain(
      'is not a host:port list',
    );
    expect(
      (await runCairn(['sync', '--repo', f.work.dir, '--zk', f.zk.connectString, '--listen', '8080'])).stderr,
    ).toContain('--listen needs --webhook-secret');
    expect(
      (
        await runCairn([
          'sync',
          '--once',
          '--repo',
          f.work.dir,
          '--zk',
          f.zk.connectString,
          '--poll',
          'often',
        ])
      ).stderr,
    ).toContain('--poll "often" is not a duration');
  }, 180_000);

  it('takes its settings from the environment too', async () => {
    const run = await runCairn(['sync', '--once'], {
      CAIRN_REPO: f.work.dir,
      CAIRN_ZK: f.zk.connectString,
      CAIRN_CACHE_DIR: f.cacheDir,
    });
    expect(run).toMatchObject({ code: 0, stdout: `up to date at ${await f.work.head()}\n` });
  });

  it('explains an unreachable ZooKeeper', async () => {
    const run = await runCairn([
      'sync',
      '--once',
      '--repo',
      f.work.dir,
      '--zk',
      '127.0.0.1:1',
      '--cache-dir',
      f.cacheDir,
      '--session-timeout',
      '1s',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('could not connect to ZooKeeper at 127.0.0.1:1');
  });
});
