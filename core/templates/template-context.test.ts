import { beforeAll, describe, expect, it } from 'vitest';
import { exampleTree, text, withChanges } from '../../test/support/example-repo.js';
import { type ConfigRepo, loadConfigRepo } from '../config-repo.js';
import type { RepoTree } from '../repo-tree.js';
import { templateContextOf } from './template-context.js';

const load = (tree: RepoTree) => loadConfigRepo(tree, () => []).repo;
const SEARCH = 'services/search-api/service.yaml';

describe('the context a template sees', () => {
  let tree: Map<string, Uint8Array>;
  let repo: ConfigRepo;
  beforeAll(async () => {
    tree = await exampleTree();
    repo = load(tree);
  });

  const contextOf = (model: ConfigRepo, service: string, env: string) =>
    templateContextOf(
      model.services.get(service) as NonNullable<ReturnType<typeof model.services.get>>,
      env,
      model.services,
    );

  it('holds the service, the environment, and each service of dependsOn in that order', () => {
    const context = contextOf(repo, 'edge-gateway', 'prod');
    expect(context?.service).toEqual(expect.objectContaining({ name: 'edge-gateway', port: 80, routes: [] }));
    expect(context?.environment).toEqual({ name: 'prod' });
    expect(context?.dependencies.map((d) => d.name)).toEqual(['search-api', 'recommender']);
  });

  it("gives each dependency its port, this environment's load balancing, and its hosts as service.yaml lists them", () => {
    const [search, recommender] = contextOf(repo, 'edge-gateway', 'prod')?.dependencies ?? [];
    expect(search?.port).toBe(8080);
    expect(search?.loadBalancing).toBe('weighted-round-robin');
    expect(recommender?.loadBalancing).toBe('consistent-hash');
    expect(contextOf(repo, 'edge-gateway', 'staging')?.dependencies[1]?.loadBalancing).toBe(
      'weighted-round-robin',
    );
    expect(search?.hosts[0]).toEqual({
      host: 'search-prod-01.dc1.northwind.internal',
      weight: 100,
      labels: { zone: 'dc1-a' },
      draining: false,
    });
    expect(search?.hosts.at(-1)).toEqual({
      host: 'search-prod-04.dc2.northwind.internal',
      weight: 0,
      labels: { zone: 'dc2-c' },
      draining: false,
    });
    expect(recommender?.hosts.filter((h) => h.weight === 150).map((h) => h.labels)).toEqual([
      { zone: 'dc2-c', hw: 'gen11' },
      { zone: 'dc2-c', hw: 'gen11' },
    ]);
  });

  it('lists every route of the dependencies longest first, ties in byte order', () => {
    const changed = load(
      withChanges(tree, {
        [SEARCH]: text(tree, SEARCH).replace(
          'routes: [/v2/search]',
          'routes: [/v2/search, /v2/suggest/, /v2/s, /v2/titles/]',
        ),
      }),
    );
    const context = contextOf(changed, 'edge-gateway', 'dev');
    expect(context?.dependencies[0]?.routes).toEqual(['/v2/suggest/', '/v2/titles/', '/v2/search', '/v2/s']);
    expect(context?.routes).toEqual([
      { prefix: '/v1/recommendations/', service: 'recommender' },
      { prefix: '/v2/suggest/', service: 'search-api' },
      { prefix: '/v2/titles/', service: 'search-api' },
      { prefix: '/v2/search', service: 'search-api' },
      { prefix: '/v2/s', service: 'search-api' },
    ]);
  });

  it('gives a dependency that does not run in the environment no hosts, and a service that does not listen no port', () => {
    const changed = load(
      withChanges(tree, {
        'services/edge-gateway/service.yaml': text(tree, 'services/edge-gateway/service.yaml').replace(
          'dependsOn: [search-api, recommender]',
          'dependsOn: [search-api, nightly-reports]',
        ),
        [SEARCH]: text(tree, SEARCH).replace(/ {2}dev:\n {4}hosts:\n.*\n/, ''),
      }),
    );
    const [search, reports] = contextOf(changed, 'edge-gateway', 'dev')?.dependencies ?? [];
    expect(search?.hosts).toEqual([]);
    expect(reports?.port).toBeNull();
  });

  it('marks the hosts of a running deploy step draining, only for a service that opted in', () => {
    const service = (model: ConfigRepo, name: string) =>
      model.services.get(name) as NonNullable<ReturnType<typeof model.services.get>>;
    const canary = 'search-prod-02.dc1.northwind.internal';
    const draining = new Map([
      ['search-api', new Set([canary, 'not-a-host-of-search-api'])],
      ['recommender', new Set<string>()],
    ]);
    const context = templateContextOf(service(repo, 'edge-gateway'), 'prod', repo.services, draining);
    const [search, recommender] = context?.dependencies ?? [];
    expect(search?.hosts.filter((h) => h.draining).map((h) => h.host)).toEqual([canary]);
    expect(search?.hosts).toHaveLength(
      contextOf(repo, 'edge-gateway', 'prod')?.dependencies[0]?.hosts.length ?? -1,
    );
    expect(recommender?.hosts.some((h) => h.draining)).toBe(false);

    // The gateway turns it off in prod: its templates see nothing drain there.
    const file = 'services/edge-gateway/service.yaml';
    const optedOut = load(
      withChanges(tree, {
        [file]: text(tree, file).replace('  prod:\n', '  prod:\n    drainDuringDeploys: false\n'),
      }),
    );
    const undrained = templateContextOf(
      service(optedOut, 'edge-gateway'),
      'prod',
      optedOut.services,
      draining,
    );
    expect(undrained?.dependencies.flatMap((d) => d.hosts).some((h) => h.draining)).toBe(false);
  });

  it('is not there while a service of dependsOn is missing from the model', () => {
    // Its files stay, its service.yaml is gone: the service is reported, and left out of the model.
    const broken = load(withChanges(tree, { [SEARCH]: null }));
    expect(broken.services.has('search-api')).toBe(false);
    expect(contextOf(broken, 'edge-gateway', 'dev')).toBeUndefined();
  });
});
