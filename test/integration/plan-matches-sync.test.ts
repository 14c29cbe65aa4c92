import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../bot/index.js';
import { type ConfigRepo, readRepoDir } from '../../core/index.js';
import { validateRepo } from '../../schemas/index.js';
import type { Mirror } from '../../syncer/mirror.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

/**
 * The bot's plan comment and the syncer compute the same desired state (core's `desiredStateOf`) and
 * the same publication (`planPublication`): what the plan counts is what a merge then writes.
 */
describe('the plan of a pull request and what the syncer then writes', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  beforeAll(async () => {
    // prod follows v* tags, as in the example repository.
    f = await startSyncerFixture({ tagTracking: true });
    mirror = f.newMirror();
    await f.work.git('tag', 'v1.0.0');
    await f.work.push(f.repoUrl);
    await f.work.push(f.repoUrl, 'refs/tags/*:refs/tags/*');
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
  });
  afterAll(async () => {
    await f?.close();
  });

  const modelAt = async (commit: string): Promise<ConfigRepo> => {
    const dir = join(await mkdtemp(join(tmpdir(), 'cairn-plan-tree-')), 'tree');
    await f.work.git('worktree', 'add', '--detach', dir, commit);
    const { repo, diagnostics } = validateRepo((await readRepoDir(dir)).tree);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return repo;
  };

  it('counts exactly the znodes a merge writes, when the change touches an environment that follows tags', async () => {
    const base = await f.work.head();
    await f.work.write({
      // prod follows tags: the merge does not publish this; the next release will.
      'services/recommender/config/@prod/feature-flags.json': '{"winterCatalogue": true}\n',
      // dev and staging follow main: this goes live with the merge.
      'services/search-api/config/ranking.toml': 'title = "plan test"\n',
      // A new service appears in every environment that follows main, and in prod only with a tag.
      'services/playlists/service.yaml': [
        'apiVersion: cairn/v1',
        'description: Editorial playlists.',
        'owners: [team:editorial]',
        'environments:',
        '  dev:',
        '    hosts: [{ host: playlists-dev-01.dc1.northwind.internal }]',
        '  prod:',
        '    hosts: [{ host: playlists-prod-01.dc1.northwind.internal }]',
        '',
      ].join('\n'),
      'services/playlists/config/playlists.yaml': 'featured: [winter]\n',
    });
    const head = await f.work.commit('Merge pull request #21');
    const plan = buildPlan(await modelAt(base), await modelAt(head), 'main');

    await f.work.push(f.repoUrl);
    const outcome = await mirror.sync(f.target);
    if (outcome.kind !== 'mirrored') throw new Error(`expected a mirror, got ${outcome.kind}`);
    expect(plan.znodes).toEqual(outcome.written);
    // The prod change is in the plan's file list, and written nowhere.
    expect(plan.environments.find((e) => e.service === 'recommender' && e.env === 'prod')?.tracks).toEqual({
      tag: 'v*',
    });
    expect(await f.session.exists(f.layout.environment('playlists', 'prod'))).toBeUndefined();
    expect(await f.session.exists(f.layout.environment('playlists', 'dev'))).toBeDefined();
  });
});
