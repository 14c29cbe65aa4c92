import { beforeAll, describe, expect, it } from 'vitest';
import { validateRepo } from '../schemas/index.js';
import { exampleTree, withChanges } from '../test/support/example-repo.js';
import { diffConfigRepos } from './config-diff.js';
import type { ConfigRepo } from './config-repo.js';
import { contentId } from './content-id.js';
import type { RepoTree } from './repo-tree.js';
import { diffInventories, type EnvironmentIndex, inventoryOf } from './zk-inventory.js';
import { ZkLayout } from './zk-layout.js';

const layout = new ZkLayout('/cairn');
const modelOf = (tree: RepoTree): ConfigRepo => {
  const { repo, diagnostics } = validateRepo(tree);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return repo;
};

describe('the ZooKeeper inventory of a repository', () => {
  let tree: Map<string, Uint8Array>;
  beforeAll(async () => {
    tree = await exampleTree();
  });

  it('holds every effective file under its environment, folders as empty nodes', () => {
    const inventory = inventoryOf(modelOf(tree), layout);
    const boost = inventory.get('/cairn/config/recommender/prod/rules/boost.yaml');
    expect(Buffer.from(boost ?? []).toString()).toContain('boost');
    expect(inventory.get('/cairn/config/recommender/prod/rules')).toEqual(new Uint8Array(0));
    expect(inventory.has('/cairn/services/edge-gateway')).toBe(true);
    expect(inventory.has('/cairn/releases/recommender/prod')).toBe(true);
  });

  it('indexes each environment by git blob id', () => {
    const inventory = inventoryOf(modelOf(tree), layout);
    const index = JSON.parse(
      Buffer.from(inventory.get('/cairn/config/recommender/dev') ?? []).toString(),
    ) as EnvironmentIndex;
    expect(Object.keys(index.files)).toEqual([
      'application.yaml',
      'feature-flags.json',
      'rules/blocklist.yaml',
      'rules/boost.yaml',
    ]);
    const blocklist = tree.get('services/recommender/config/rules/blocklist.yaml') as Uint8Array;
    expect(index.files['rules/blocklist.yaml']).toBe(contentId(blocklist));
  });

  it('gives git blob ids', () => {
    // `printf 'hello\n' | git hash-object --stdin`
    expect(contentId(Buffer.from('hello\n'))).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
  });

  it('diffs to the creates, updates and removes of one change, parents first and children first', () => {
    const before = inventoryOf(modelOf(tree), layout);
    const after = inventoryOf(
      modelOf(
        withChanges(tree, {
          'services/recommender/config/rules/boost.yaml': null,
          'services/recommender/config/@prod/rules/boost.yaml': null,
          'services/recommender/config/rules/new/extra.yaml': 'a: 1\n',
        }),
      ),
      layout,
    );
    const diff = diffInventories(before, after);
    expect(diff.creates.filter((p) => p.includes('/recommender/prod/'))).toEqual([
      '/cairn/config/recommender/prod/rules/new',
      '/cairn/config/recommender/prod/rules/new/extra.yaml',
    ]);
    expect(diff.removes).toContain('/cairn/config/recommender/prod/rules/boost.yaml');
    expect(diff.updates).toEqual([
      '/cairn/config/recommender/dev',
      '/cairn/config/recommender/prod',
      '/cairn/config/recommender/staging',
    ]);
    expect(diffInventories(before, before)).toEqual({ creates: [], updates: [], removes: [] });
  });

  it('removes a deleted service completely', () => {
    const before = inventoryOf(modelOf(tree), layout);
    const withoutReports = new Map(
      [...tree].filter(([path]) => !path.startsWith('services/nightly-reports/')),
    );
    const diff = diffInventories(before, inventoryOf(modelOf(withoutReports), layout));
    const owned = [...before.keys()].filter((p) => p.includes('/nightly-reports'));
    expect([...diff.removes].sort()).toEqual(owned.sort());
    expect(diff.removes.indexOf('/cairn/config/nightly-reports/prod')).toBeGreaterThan(
      diff.removes.indexOf('/cairn/config/nightly-reports/prod/reports.ini'),
    );
  });
});

describe('the reviewable diff of two repositories', () => {
  it('lists effective files and releases that change, per service and environment', async () => {
    const tree = await exampleTree();
    const before = modelOf(tree);
    const after = modelOf(
      withChanges(tree, {
        'services/recommender/config/@prod/feature-flags.json': '{"newHomeRow": true}\n',
        'services/search-api/releases/prod.yaml': Buffer.from(
          tree.get('services/search-api/releases/prod.yaml') ?? [],
        )
          .toString()
          .replace(/version: .*/, 'version: v9.9.9'),
      }),
    );
    const diff = diffConfigRepos(before, after);
    expect(diff.files.map((f) => `${f.service}/${f.env}/${f.path}:${f.kind}`)).toEqual([
      'recommender/prod/feature-flags.json:changed',
    ]);
    expect(diff.releases.map((r) => `${r.service}/${r.env}:${r.kind}:${r.after?.manifest.version}`)).toEqual([
      'search-api/prod:changed:v9.9.9',
    ]);
    expect(diffConfigRepos(undefined, after).servicesAdded).toEqual([
      'edge-gateway',
      'nightly-reports',
      'recommender',
      'search-api',
    ]);
  });
});
