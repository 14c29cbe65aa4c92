import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningRecommender, startRecommender } from '../../sdk/examples/recommender-service.js';
import { waitFor } from '../harness/index.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { type BoundMirror, boundMirror, commitAndSync, tempDir } from './sdk-test-support.js';

describe('the example recommender service of the SDK guide', () => {
  let f: SyncerFixture;
  let mirror: BoundMirror;
  let cache: Awaited<ReturnType<typeof tempDir>>;
  let service: RunningRecommender | undefined;
  beforeAll(async () => {
    process.env.LOG_LEVEL = 'silent';
    f = await startSyncerFixture();
    mirror = boundMirror(f);
    await mirror.sync();
    cache = await tempDir('cairn-sdk-example-');
  });
  afterAll(async () => {
    await service?.close();
    await f?.close();
    await cache?.remove();
  });

  const get = async (path: string) =>
    (await (await fetch(`${service?.url}${path}`)).json()) as { commit?: string; titles?: string[] };

  it('serves with its settings, reloads them live on a commit, and refuses a commit that would break it', async () => {
    service = await startRecommender({ zk: f.zk.connectString, env: 'dev', port: 0, cacheDir: cache.dir });
    // A demo listens on loopback only, unless told otherwise.
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await get('/config')).toEqual({
      commit: await f.work.head(),
      source: 'zookeeper',
      connection: 'connected',
    });
    expect((await get('/recommendations?user=42')).titles).toHaveLength(40);

    const overlay = await f.work.git('show', 'HEAD:services/recommender/config/@dev/application.yaml');
    const commit = await commitAndSync(f, mirror, 'Fewer results in dev', {
      'services/recommender/config/@dev/application.yaml': `${overlay}\nranking:\n  maxResults: 5\n`,
    });
    await waitFor(async () => (await get('/config')).commit === commit, { description: 'the reload' });
    expect((await get('/recommendations?user=42')).titles).toHaveLength(5);

    const refused = await commitAndSync(f, mirror, 'Too many results', {
      'services/recommender/config/@dev/application.yaml': `${overlay}\nranking:\n  maxResults: 5000\n`,
    });
    await waitFor(() => service?.config.rejected?.commit === refused, { description: 'the refusal' });
    expect((await get('/config')).commit).toBe(commit);
    expect((await get('/recommendations?user=42')).titles).toHaveLength(5);
  });
});
