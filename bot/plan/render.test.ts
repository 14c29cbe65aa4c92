import { beforeAll, describe, expect, it } from 'vitest';
import type { ConfigRepo, RepoTree } from '../../core/index.js';
import { validateRepo } from '../../schemas/index.js';
import { exampleRepoFiles } from '../../test/bot-e2e/test-app.js';
import { PLAN_MARKER } from '../names.js';
import { buildPlan } from './build-plan.js';
import { renderPlanComment } from './render.js';

const HEAD = 'a'.repeat(40);
const BASE = 'b'.repeat(40);
let base: RepoTree;
let baseRepo: ConfigRepo;

beforeAll(async () => {
  base = await exampleRepoFiles();
  baseRepo = validateRepo(base).repo;
});

function planFor(changes: Record<string, string | null>) {
  const head = new Map(base);
  for (const [path, content] of Object.entries(changes)) {
    if (content === null) head.delete(path);
    else head.set(path, Buffer.from(content));
  }
  const validation = validateRepo(head);
  expect(validation.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return buildPlan(baseRepo, validation.repo);
}

const render = (changes: Record<string, string | null>, limit?: number) =>
  renderPlanComment(
    { headSha: HEAD, baseSha: BASE, baseRef: 'main', headErrors: 0, baseErrors: 0, plan: planFor(changes) },
    limit,
  );

describe('the plan comment', () => {
  it('says so when nothing changes in ZooKeeper', () => {
    expect(render({ 'README.md': '# docs\n' })).toBe(
      `${PLAN_MARKER}\n### Cairn plan\n\n**No changes.** Merging \`aaaaaaa\` into \`main\` changes nothing in ZooKeeper.`,
    );
  });

  it('shows a base file change in every environment that sees it', () => {
    const body = render({ 'services/recommender/config/rules/blocklist.yaml': 'titles: []\n' });
    for (const env of ['dev', 'staging', 'prod']) expect(body).toContain(`#### \`recommender\` · \`${env}\``);
    expect(body).toContain('live once on `main`');
    // The diff is shown once; the other environments name where it is.
    expect(body.match(/```diff/g)).toHaveLength(1);
    expect(body).toContain('**~ `rules/blocklist.yaml`** changed — the same change as in `dev`');
    // The new file content, stored once, and dev's and staging's new manifests; their two pointers
    // change. prod follows tags: the merge writes nothing of it.
    expect(body).toContain('znodes: 3 created, 2 updated, 0 deleted');
  });

  it("shows the gateway's rendered upstreams change where a service it depends on changes its hosts", () => {
    const path = 'services/search-api/service.yaml';
    const source = Buffer.from(base.get(path) ?? []).toString('utf8');
    const body = render({
      [path]: source.replace(
        '      - { host: search-stg-02.dc1.northwind.internal, labels: { zone: dc1-b } }\n',
        '      - { host: search-stg-02.dc1.northwind.internal, labels: { zone: dc1-b } }\n' +
          '      - { host: search-stg-03.dc1.northwind.internal, weight: 50 }\n',
      ),
    });
    expect(body).toContain('#### `edge-gateway` · `staging` — live once on `main`');
    expect(body).toContain(
      '**~ `conf.d/upstreams.conf`** changed — rendered from the service tree by `services/edge-gateway/config/conf.d/upstreams.conf.liquid`',
    );
    expect(body).toContain(
      '+    server search-stg-03.dc1.northwind.internal:8080 weight=50 max_fails=3 fail_timeout=10s;',
    );
    // Only staging's hosts changed: dev renders the same bytes (and prod follows release tags).
    expect(body).not.toContain('`edge-gateway` · `dev`');
  });

  it('shows a removed release manifest without starting a deployment', () => {
    const body = render({ 'services/search-api/releases/dev.yaml': null });
    expect(body).toContain('release manifest removed (was `v5.9.0-SNAPSHOT.212`). No deployment starts');
    expect(body).toContain('0 deployments to start');
  });

  it('shows a first release as recorded, not deployed, and a rollback without canary or bake', () => {
    const release = (version: string, extra = '') =>
      `apiVersion: cairn/v1\nversion: ${version}\ndeploy:\n  command: "true"\nstrategy:\n  canary: { hosts: 1, bakeSeconds: 600 }\n  batchSize: 1\n${extra}`;
    const first = render({
      'services/edge-gateway/releases/dev.yaml': release('1.26.2-nw3').replace(
        'canary: { hosts: 1, bakeSeconds: 600 }\n  ',
        '',
      ),
    });
    expect(first).toContain('first release `1.26.2-nw3`');
    expect(first).toContain('recorded as the version the hosts run, nothing is deployed');
    expect(first).toContain('0 deployments to start');
    const rollback = render({
      'services/search-api/releases/dev.yaml': release('v5.8.0', '  rollback: true\n'),
    });
    expect(rollback).toContain('a rollback: no canary and no bake');
    expect(rollback).not.toContain('- canary:');
    expect(rollback).toContain('1 deployment to start');
  });

  it('stays within the limit: diffs go first, then whole files, with a note', () => {
    const changes: Record<string, string> = {};
    for (let i = 0; i < 400; i++)
      changes[`services/search-api/config/generated/f${i}.txt`] = `line ${i}\n`.repeat(30);
    const body = render(changes, 20_000);
    expect(body.length).toBeLessThanOrEqual(20_000);
    expect(body).toContain('more file changes: too many for one comment');
    expect(body.endsWith('reaches ZooKeeper._')).toBe(true);
  });

  it('explains why there is no plan for an invalid head', () => {
    const body = renderPlanComment({
      headSha: HEAD,
      baseSha: BASE,
      baseRef: 'main',
      headErrors: 3,
      baseErrors: 0,
      fork: 'x/y',
    });
    expect(body).toContain('From the fork `x/y`');
    expect(body).toContain('it has 3 errors');
  });
});
