import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { turnsDuring } from '../test/support/event-loop-turns.js';
import { exampleTree, lineOf, text, withChanges } from '../test/support/example-repo.js';
import {
  type ConfigRepo,
  createRepoModelCache,
  loadConfigRepo,
  loadConfigRepoInSlices,
  type ManifestChecker,
} from './config-repo.js';
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
    const { repo: changed } = load(
      withChanges(tree, {
        'services/edge-gateway/config/mime.types': 'types { text/html html; }\n',
        'services/edge-gateway/config/@prod/mime.types': 'types { text/plain txt; }\n',
      }),
    );
    expect(fileText(changed, 'edge-gateway', 'prod', 'mime.types')).toBe('types { text/plain txt; }\n');
    expect(fileText(changed, 'edge-gateway', 'dev', 'mime.types')).toBe('types { text/html html; }\n');
  });

  it('fills host defaults from the schema', () => {
    const hosts = repo.services.get('recommender')?.environments.get('prod')?.hosts ?? [];
    expect(hosts.find((h) => h.host === 'rec-prod-01.dc1.northwind.internal')?.weight).toBe(100);
    expect(hosts.find((h) => h.host === 'rec-prod-05.dc2.northwind.internal')?.weight).toBe(150);
  });

  it('drains during deploys where the environment says so, else where the service does', () => {
    const gateway = repo.services.get('edge-gateway');
    expect([...(gateway?.environments.values() ?? [])].map((e) => [e.name, e.drainDuringDeploys])).toEqual([
      ['dev', true],
      ['staging', true],
      ['prod', true],
    ]);
    expect(repo.services.get('search-api')?.environments.get('prod')?.drainDuringDeploys).toBeUndefined();
    const file = 'services/edge-gateway/service.yaml';
    const overridden = load(
      withChanges(tree, {
        [file]: text(tree, file).replace('  dev:\n', '  dev:\n    drainDuringDeploys: false\n'),
      }),
    ).repo;
    expect(
      overridden.services.get('edge-gateway')?.environments.get('dev')?.drainDuringDeploys,
    ).toBeUndefined();
    expect(overridden.services.get('edge-gateway')?.environments.get('prod')?.drainDuringDeploys).toBe(true);
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

describe('templates: config files rendered from the service tree', () => {
  const GATEWAY = 'services/edge-gateway/config';
  const UPSTREAMS = `${GATEWAY}/conf.d/upstreams.conf.liquid`;
  const SEARCH = 'services/search-api/service.yaml';
  let tree: Map<string, Uint8Array>;
  let repo: ConfigRepo;
  beforeAll(async () => {
    tree = await exampleTree();
    repo = load(tree).repo;
  });

  const loadChanged = (changes: Record<string, string | null>) => load(withChanges(tree, changes));
  const addedStagingHost = () =>
    text(tree, SEARCH).replace(
      '      - { host: search-stg-02.dc1.northwind.internal, labels: { zone: dc1-b } }\n',
      '      - { host: search-stg-02.dc1.northwind.internal, labels: { zone: dc1-b } }\n' +
        '      - { host: search-stg-03.dc1.northwind.internal, weight: 50 }\n',
    );

  it('renders a template to the file named without .liquid, in every environment, from that environment', () => {
    for (const env of ['dev', 'staging', 'prod']) {
      const files = repo.services.get('edge-gateway')?.files.get(env);
      expect([...(files?.keys() ?? [])]).toEqual([
        'conf.d/upstreams.conf',
        'nginx.conf',
        'snippets/locations.conf',
      ]);
      expect(files?.get('conf.d/upstreams.conf')?.sources).toEqual([UPSTREAMS]);
      expect(files?.get('conf.d/upstreams.conf')?.format).toBe('text');
    }
    const prod = fileText(repo, 'edge-gateway', 'prod', 'conf.d/upstreams.conf');
    expect(prod).toContain('    hash $http_x_nw_profile_id consistent;\n    server rec-prod-01.dc1');
    expect(prod).toContain('server rec-prod-05.dc2.northwind.internal:8080 weight=150 max_fails=3');
    expect(prod).toContain('server search-prod-04.dc2.northwind.internal:8080 down;');
    expect(fileText(repo, 'edge-gateway', 'dev', 'conf.d/upstreams.conf')).not.toContain('hash ');
  });

  it('renders a template overlay in its environment only, instead of the base template', () => {
    const { repo: changed, diagnostics } = loadChanged({
      [`${GATEWAY}/@prod/conf.d/upstreams.conf.liquid`]:
        '# {{ environment.name }}: {{ dependencies.size }} upstreams\n',
    });
    expect(diagnostics).toEqual([]);
    expect(fileText(changed, 'edge-gateway', 'prod', 'conf.d/upstreams.conf')).toBe('# prod: 2 upstreams\n');
    expect(
      changed.services.get('edge-gateway')?.files.get('prod')?.get('conf.d/upstreams.conf')?.sources,
    ).toEqual([UPSTREAMS, `${GATEWAY}/@prod/conf.d/upstreams.conf.liquid`]);
    expect(fileText(changed, 'edge-gateway', 'staging', 'conf.d/upstreams.conf')).toBe(
      fileText(repo, 'edge-gateway', 'staging', 'conf.d/upstreams.conf'),
    );
  });

  it('lets a plain overlay replace what a template renders, without rendering it there', () => {
    const { repo: changed, diagnostics } = loadChanged({
      [`${GATEWAY}/@prod/conf.d/upstreams.conf`]: '# by hand\n',
      [UPSTREAMS]: '{% if environment.name == "prod" %}{{ nothing.here }}{% endif %}# rendered\n',
    });
    expect(diagnostics).toEqual([]);
    expect(fileText(changed, 'edge-gateway', 'prod', 'conf.d/upstreams.conf')).toBe('# by hand\n');
    expect(fileText(changed, 'edge-gateway', 'dev', 'conf.d/upstreams.conf')).toBe('# rendered\n');
  });

  it('merges a YAML overlay over a rendered YAML file, and checks what a template renders', () => {
    const { repo: changed, diagnostics } = loadChanged({
      'services/recommender/config/peers.yaml.liquid':
        'port: {{ service.port }}\npeers:\n{%- for peer in service.hosts %}\n  - {{ peer.host }}\n{%- endfor %}\n',
      'services/recommender/config/@prod/peers.yaml': 'port: 9090\n',
      'services/recommender/config/broken.json.liquid': '{ "env": {{ environment.name }} }\n',
    });
    const prod = parseYaml(fileText(changed, 'recommender', 'prod', 'peers.yaml'));
    expect(prod.port).toBe(9090);
    expect(prod.peers).toHaveLength(12);
    expect(parseYaml(fileText(changed, 'recommender', 'dev', 'peers.yaml'))).toEqual({
      port: 8080,
      peers: ['rec-dev-01.dc1.northwind.internal', 'rec-dev-02.dc1.northwind.internal'],
    });
    expect(diagnostics.map((d) => [d.file, d.rule])).toEqual(
      ['dev', 'staging', 'prod'].map(() => [
        'services/recommender/config/broken.json.liquid',
        'template/invalid-output',
      ]),
    );
    expect(diagnostics[0]?.message).toMatch(
      /^renders invalid json for dev, at line 1, column \d+ of the output: /,
    );
  });

  it('reports a template and a plain file that make the same file, and keeps the plain one', () => {
    const { repo: changed, diagnostics } = loadChanged({
      [`${GATEWAY}/conf.d/upstreams.conf`]: '# by hand\n',
      [`${GATEWAY}/@prod/nginx.conf.liquid`]: '# rendered\n',
      [`${GATEWAY}/@prod/nginx.conf`]: '# by hand\n',
    });
    expect(diagnostics).toEqual([
      expect.objectContaining({ file: UPSTREAMS, rule: 'template/clash', severity: 'error', line: 1 }),
      expect.objectContaining({ file: `${GATEWAY}/@prod/nginx.conf.liquid`, rule: 'template/clash' }),
    ]);
    expect(diagnostics[0]?.message).toBe(
      `this template renders conf.d/upstreams.conf, which ${GATEWAY}/conf.d/upstreams.conf is too: keep either the template or the plain file`,
    );
    expect(fileText(changed, 'edge-gateway', 'dev', 'conf.d/upstreams.conf')).toBe('# by hand\n');
  });

  it('needs a base for a template overlay too', () => {
    const { diagnostics } = loadChanged({ [`${GATEWAY}/@prod/extra.conf.liquid`]: 'x\n' });
    expect(diagnostics).toEqual([expect.objectContaining({ rule: 'overlay/no-base' })]);
    expect(diagnostics[0]?.message).toContain(
      `add services/edge-gateway/config/extra.conf (or a template of it, extra.conf.liquid)`,
    );
  });

  it('leaves out a file whose template fails, and says where', () => {
    const { repo: changed, diagnostics } = loadChanged({
      [UPSTREAMS]: text(tree, UPSTREAMS).replace('{{ upstream.port }}', '{{ upstream.prot }}'),
    });
    expect(diagnostics).toEqual([
      expect.objectContaining({
        file: UPSTREAMS,
        rule: 'template/unknown-variable',
        line: lineOf(text(tree, UPSTREAMS), 'upstream.port'),
      }),
    ]);
    expect(diagnostics[0]?.message).toMatch(/"upstream\.prot".*\(rendering for dev, staging, prod\)$/);
    expect(changed.services.get('edge-gateway')?.files.get('prod')?.has('conf.d/upstreams.conf')).toBe(false);
  });

  it('renders again when a service of dependsOn changes its hosts, and keeps the rendering otherwise', () => {
    const cache = createRepoModelCache();
    const first = loadConfigRepo(tree, trustManifests, cache).repo;
    expect(first.services.get('edge-gateway')).toEqual(repo.services.get('edge-gateway'));

    // Another service's config file, and search-api's own: the gateway's context is the same.
    const unrelated = loadConfigRepo(
      withChanges(tree, {
        'services/recommender/config/application.yaml': 'a: 1\n',
        'services/search-api/config/ranking.toml': 'title = "x"\n',
      }),
      trustManifests,
      cache,
    ).repo;
    expect(unrelated.services.get('edge-gateway')).toBe(first.services.get('edge-gateway'));

    const moved = withChanges(tree, { [SEARCH]: addedStagingHost() });
    const cached = loadConfigRepo(moved, trustManifests, cache).repo;
    const staging = fileText(cached, 'edge-gateway', 'staging', 'conf.d/upstreams.conf');
    expect(staging).toContain(
      '    server search-stg-03.dc1.northwind.internal:8080 weight=50 max_fails=3 fail_timeout=10s;\n',
    );
    expect(cached.services.get('edge-gateway')).toEqual(load(moved).repo.services.get('edge-gateway'));
    // Environments the change does not reach render the same bytes.
    expect(fileText(cached, 'edge-gateway', 'prod', 'conf.d/upstreams.conf')).toBe(
      fileText(first, 'edge-gateway', 'prod', 'conf.d/upstreams.conf'),
    );
  });
});

describe('loading in slices', () => {
  let tree: Map<string, Uint8Array>;
  beforeAll(async () => {
    tree = await exampleTree();
  });

  it('hands the event loop back after a service once the slice is spent, and gives what one go gives', async () => {
    let clock = 0;
    let loaded: Awaited<ReturnType<typeof loadConfigRepoInSlices>> | undefined;
    const turns = await turnsDuring(async () => {
      // Every reading of this clock finds the slice spent.
      loaded = await loadConfigRepoInSlices(tree, trustManifests, undefined, {
        sliceMs: 1,
        now: () => (clock += 2),
      });
    });
    // The example's four services: a turn after each.
    expect(turns).toBeGreaterThanOrEqual(4);
    const whole = load(tree);
    expect(loaded?.diagnostics).toEqual(whole.diagnostics);
    expect(loaded?.repo.services).toEqual(whole.repo.services);
    expect(loaded?.filesParsed).toBe(whole.filesParsed);
  });

  it('keeps the event loop while the slice lasts', async () => {
    const turns = await turnsDuring(() =>
      loadConfigRepoInSlices(tree, trustManifests, undefined, { sliceMs: 60_000 }),
    );
    expect(turns).toBe(0);
  });
});
