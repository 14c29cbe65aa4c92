import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHeadRecord } from '../../core/index.js';
import { findFreePorts } from '../../local/index.js';
import { connect, type ServiceConfig } from '../../sdk/index.js';
import { waitFor } from '../harness/index.js';
import { spawnCairn } from '../support/cairn-process.js';
import { firstStaged, largeChange } from '../support/large-change.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

/** Every service and environment of the example repository. */
const ENVIRONMENTS = ['edge-gateway', 'nightly-reports', 'recommender', 'search-api'].flatMap((service) =>
  ['dev', 'staging', 'prod'].map((env) => ({ service, env })),
);

describe('readers while a large commit is staged, and after a syncer dies staging one', () => {
  let f: SyncerFixture;
  const clients: ServiceConfig[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
  });
  afterAll(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await f?.close();
  });

  const head = async () => decodeHeadRecord((await f.session.get(f.layout.head())).data).commit;
  const commitAndPush = async (files: Record<string, string | null>, message: string) => {
    await f.work.write(files);
    const sha = await f.work.commit(message);
    await f.work.push(f.repoUrl);
    return sha;
  };
  /** A new client, with a deadline generous enough for a loaded machine: the point is that it is met. */
  const newClient = async (service: string, env: string) => {
    const client = await connect({
      zk: f.zk.connectString,
      service,
      env,
      instance: false,
      connectTimeoutMs: 20_000,
    });
    clients.push(client);
    return client;
  };

  it('connects a new client while a 5,000-file commit is being staged, on the last published snapshot', async () => {
    expect((await f.newMirror().sync(f.target)).kind).toBe('mirrored');
    const before = await head();
    const big = await commitAndPush(largeChange(5000, 'staged'), 'Add 5,000 synonym files');
    const syncer = spawnCairn([...f.syncOnceArgs(), '--session-timeout', '10s']);
    const exited = new Promise<number | null>((resolve) => syncer.once('exit', (code) => resolve(code)));
    try {
      await waitFor(async () => (await f.session.exists(firstStaged(f.layout, 'staged'))) !== undefined, {
        description: 'staging under way',
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      // Freeze the syncer in the middle of staging: a reader must not wait for it.
      syncer.kill('SIGSTOP');
      const started = Date.now();
      const client = await newClient('search-api', 'dev');
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(client.commit).toBe(before);
      expect(client.files().some((file) => file.startsWith('synonyms/'))).toBe(false);
      expect(await head()).toBe(before);
      syncer.kill('SIGCONT');
      expect(await exited).toBe(0);
      await waitFor(() => client.commit === big, {
        description: 'the big commit delivered',
        timeoutMs: 30_000,
      });
      expect(client.files().filter((file) => file.startsWith('synonyms/'))).toHaveLength(5000);
    } finally {
      syncer.kill('SIGCONT');
      syncer.kill('SIGKILL');
    }
  }, 240_000);

  it('leaves every environment readable by a new client after a syncer dies mid-commit and the next commit is refused', async () => {
    const [port] = await findFreePorts(1);
    const daemonArgs = [
      'sync',
      '--watch',
      '--repo',
      f.repoUrl,
      '--zk',
      f.zk.connectString,
      '--cache-dir',
      f.cacheDir,
      '--poll',
      '200ms',
      '--listen',
      `127.0.0.1:${port}`,
      '--webhook-secret',
      'secret',
    ];
    await f.work.git('rm', '-r', '-q', 'services/search-api/config/synonyms');
    const published = await commitAndPush(largeChange(3000, 'published'), 'Publish 3,000 synonym files');
    expect((await f.newMirror().sync(f.target)).kind).toBe('mirrored');

    // A change to all 3,000 files; the syncer is killed while it writes them.
    await commitAndPush(largeChange(3000, 'abandoned'), 'Rewrite every synonym');
    const first = spawnCairn(daemonArgs);
    const firstExited = new Promise((resolve) => first.once('exit', resolve));
    try {
      await waitFor(async () => (await f.session.exists(firstStaged(f.layout, 'abandoned'))) !== undefined, {
        description: 'the rewrite being staged',
        timeoutMs: 60_000,
        intervalMs: 5,
      });
    } finally {
      first.kill('SIGKILL');
    }
    await firstExited;

    // The next commit fails validation: the restarted syncer refuses it.
    const servicePath = join(f.work.dir, 'services/search-api/service.yaml');
    const refused = await commitAndPush(
      { 'services/search-api/service.yaml': `${await readFile(servicePath, 'utf8')}unknownKey: true\n` },
      'Add an unknown key',
    );
    const restarted = spawnCairn(daemonArgs);
    try {
      await waitFor(
        async () => {
          const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
            refused?: { commit: string };
          };
          return health.refused?.commit === refused;
        },
        { description: 'the restarted syncer refusing the invalid head', timeoutMs: 60_000 },
      );
      expect(await head()).toBe(published);
      // Every environment: a new client starts within its deadline, on the last published commit.
      const started = new Map<string, ServiceConfig>();
      for (const { service, env } of ENVIRONMENTS) {
        const client = await newClient(service, env);
        expect(client.files().length, `${service}/${env}`).toBeGreaterThan(0);
        started.set(`${service}/${env}`, client);
      }
      const searchDev = started.get('search-api/dev') as ServiceConfig;
      expect(searchDev.commit).toBe(published);
      expect(Buffer.from(searchDev.bytes('synonyms/0000.txt')).toString()).toMatch(/^published 0/);
    } finally {
      restarted.kill('SIGKILL');
    }
  }, 240_000);
});
