import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { exampleTree, text, withChanges } from '../test/support/example-repo.js';
import { type ConfigRepo, loadConfigRepo, type ManifestChecker } from './config-repo.js';
import type { RepoTree } from './repo-tree.js';

// The model is tested on its own here, trusting every manifest; schema checks have their own tests.
const trustManifests: ManifestChecker = () => [];

const load = (tree: RepoTree) => loadConfigRepo(tree, trustManifests);
const fileText = (repo: ConfigRepo, service: string, env: string, path: string) => {
  const file = repo.services.get(service)?.files.get(env)?.get(path);
  if (!file) throw new Error(`no effective ${path} for ${service}/${env}`);
  return Buffer.from(file.bytes).toString('utf8');
};

describe('the config-repo model', () => {
  let tree: Map<string, Uint8Array>;
  let repo: ConfigRepo;
  beforeAll(async () => {
    tree = await exampleTree();
    const loaded = load(tree);
    expect(loaded.diagnostics).toEqual([]);
    repo = loaded.repo;
  });

  it('reads environments and limits from cairn.yaml', () => {
    expect([...repo.environments.keys()]).toEqual(['dev', 'staging', 'prod']);
    expect(repo.environments.get('prod')?.tracks).toEqual({ tag: 'v*' });
    expect(repo.limits.maxFileBytes).toBe(524288);
  });

  it('gives every environment of a service its own effective files', () => {
    const recommender = repo.services.get('recommender');
    expect([...(recommender?.files.keys() ?? [])]).toEqual(['dev', 'staging', 'prod']);
    expect([...(recommender?.files.get('prod')?.keys() ?? [])]).toEqual([
      'application.yaml',
      'feature-flags.json',
      'rules/blocklist.yaml',
      'rules/boost.yaml',
    ]);
  });

  it('deep-merges a YAML overlay: overlay keys win, base keys stay, null deletes', () => {
    const prod = parseYaml(fileText(repo, 'recommender', 'prod', 'application.yaml'));
    const base = parseYaml(text(tree, 'services/recommender/config/application.yaml'));
    expect(prod.server.maxConcurrentRequests).toBe(1200);
    expect(prod.server.port).toBe(base.server.port);
    expect(prod.candidates.sources).toContain('continue-watching');
    expect(prod.experiments ?? {}).not.toHaveProperty('shadowModel');
  });

  it('keeps a file without overlay byte for byte', () => {
    const file = repo.services.get('recommender')?.files.get('dev')?.get('rules/blocklist.yaml');
    expect(
      Buffer.from(file?.bytes ?? []).equals(
        Buffer.from(tree.get('services/recommender/config/rules/blocklist.yaml') ?? []),
      ),
    ).toBe(true);
    expect(file?.sources).toEqual(['services/recommender/config/rules/blocklist.yaml']);
  });

  it('merges properties key by key', () => {
    const prod = fileText(repo, 'search-api', 'prod', 'application.properties');
    expect(prod).toContain('spring.datasource.hikari.maximum-pool-size=30');
    const baseKeys = text(tree, 'services/search-api/config/application.properties')
      .split('\n')
      .filter((line) => /^[a-z]/.test(line))
      .map((line) => line.split(/[=:]/)[0]);
    for (const key of baseKeys) expect(prod).toContain(`${key}=`);
  });

  it('replaces a plain-text file whole with its overlay', () => {
    const prod = fileText(repo, 'edge-gateway', 'prod', 'conf.d/upstreams.conf');
    expect(prod).toBe(text(tree, 'services/edge-gateway/config/@prod/conf.d/upstreams.conf'));
  });

  it('fills host defaults from the schema', () => {
    const hosts = repo.services.get('recommender')?.environments.get('prod')?.hosts ?? [];
    expect(hosts.find((h) => h.host === 'rec-prod-01.dc1.northwind.internal')?.weight).toBe(100);
    expect(hosts.find((h) => h.host === 'rec-prod-05.dc2.northwind.internal')?.weight).toBe(150);
  });

  it('reads release manifests per environment', () => {
    expect(repo.services.get('recommender')?.releases.get('prod')?.manifest.version).toMatch(/^v\d/);
  });

  it('carries binary and empty config files as they are', () => {
    const binary = new Uint8Array([0, 159, 146, 150, 255]);
    const { repo: changed, diagnostics } = load(
      withChanges(tree, {
        'services/recommender/config/model.bin': binary,
        'services/recommender/config/empty.txt': '',
      }),
    );
    expect(diagnostics).toEqual([]);
    expect(changed.services.get('recommender')?.files.get('prod')?.get('model.bin')?.bytes).toEqual(binary);
    expect(changed.services.get('recommender')?.files.get('dev')?.get('empty.txt')?.bytes.length).toBe(0);
  });

  it('leaves out an overlay without a base, and says which base to add', () => {
    const { repo: changed, diagnostics } = load(
      withChanges(tree, { 'services/recommender/config/@prod/extra.yaml': 'a: 1\n' }),
    );
    expect(diagnostics).toEqual([
      expect.objectContaining({
        file: 'services/recommender/config/@prod/extra.yaml',
        rule: 'overlay/no-base',
        severity: 'error',
      }),
    ]);
    expect(diagnostics[0]?.message).toContain('services/recommender/config/extra.yaml');
    expect(changed.services.get('recommender')?.files.get('prod')?.has('extra.yaml')).toBe(false);
  });
});
