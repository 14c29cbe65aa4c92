import { beforeAll, describe, expect, it } from 'vitest';
import { exampleTree, text, withChanges } from '../test/support/example-repo.js';
import { createRepoModelCache, loadConfigRepo, type ManifestChecker } from './config-repo.js';
import { environmentSnapshotOf } from './desired-state.js';
import { drainedSnapshotsOf } from './drained-snapshots.js';
import { decodeEnvironmentManifest } from './records/environment-manifest.js';
import type { RepoTree } from './repo-tree.js';

const trustManifests: ManifestChecker = () => [];
const GATEWAY = 'edge-gateway';
const UPSTREAMS = 'conf.d/upstreams.conf';
const CANARY = 'search-prod-02.dc1.northwind.internal';
/** One cache for the file's loads, as the syncer keeps one: each load parses only what it changed. */
const shared = createRepoModelCache();

/** The text of one file of a drained (or published) snapshot. */
function fileOf(
  snapshot: { manifestId: string; contents: ReadonlyMap<string, Uint8Array> } | undefined,
  path: string,
): string {
  if (!snapshot) throw new Error('no snapshot');
  const manifest = decodeEnvironmentManifest(snapshot.contents.get(snapshot.manifestId) as Uint8Array);
  const id = manifest.files.get(path);
  return Buffer.from(snapshot.contents.get(id as string) ?? []).toString('utf8');
}

/** The snapshot the syncer publishes for the gateway in `env`, without any drain. */
function published(tree: RepoTree, env: string) {
  const service = loadConfigRepo(tree, trustManifests, shared).repo.services.get(GATEWAY);
  return service ? environmentSnapshotOf(service, env) : undefined;
}

describe("a consumer's files with the deploying hosts draining", () => {
  let tree: Map<string, Uint8Array>;
  beforeAll(async () => {
    tree = await exampleTree();
  });

  const drain = (input: { tree?: RepoTree; env?: string; draining: Record<string, string[]> }) =>
    drainedSnapshotsOf({
      tree: input.tree ?? tree,
      checkManifest: trustManifests,
      cache: shared,
      env: input.env ?? 'prod',
      draining: new Map(Object.entries(input.draining).map(([service, hosts]) => [service, new Set(hosts)])),
    });

  it('marks the hosts of the running step down in the gateway upstream, and changes nothing else', () => {
    const { snapshots, failures } = drain({ draining: { 'search-api': [CANARY] } });
    expect(failures.size).toBe(0);
    // Only the gateway opted in; search-api and recommender render no upstream of each other.
    expect([...snapshots.keys()]).toEqual([GATEWAY]);
    const drained = snapshots.get(GATEWAY);
    const before = published(tree, 'prod');
    expect(drained?.manifestId).not.toBe(before?.manifestId);

    const upstreams = fileOf(drained, UPSTREAMS);
    expect(upstreams).toMatch(
      new RegExp(`server ${CANARY}:8080 down;  # zone=dc1-b \\(draining: deploying\\)\\n`),
    );
    // Every other line is as published.
    const changed = upstreams
      .split('\n')
      .filter((line, i) => line !== fileOf(before, UPSTREAMS).split('\n')[i]);
    expect(changed).toHaveLength(1);
    const manifest = (s: typeof drained) =>
      decodeEnvironmentManifest(s?.contents.get(s.manifestId) as Uint8Array).files;
    for (const [path, id] of manifest(before))
      if (path !== UPSTREAMS) expect(manifest(drained).get(path)).toBe(id);
    // Content addressed: every node the drained manifest names is in what it returns.
    for (const id of manifest(drained).values()) expect(drained?.contents.has(id)).toBe(true);
  });

  it('writes a valid line for a host without labels (nginx needs the comment marker)', () => {
    const { snapshots } = drain({
      env: 'dev',
      draining: { recommender: ['rec-dev-01.dc1.northwind.internal'] },
    });
    expect(fileOf(snapshots.get(GATEWAY), UPSTREAMS)).toContain(
      'server rec-dev-01.dc1.northwind.internal:8080 down;  # (draining: deploying)\n',
    );
  });

  it('renders nothing when no host drains, or for a consumer that opted out there', () => {
    expect(drain({ draining: { 'search-api': [] } }).snapshots.size).toBe(0);
    expect(drain({ draining: { 'nightly-reports': ['reports-prod-01'] } }).snapshots.size).toBe(0);
    const file = 'services/edge-gateway/service.yaml';
    const optedOut = withChanges(tree, {
      [file]: text(tree, file).replace('  prod:\n', '  prod:\n    drainDuringDeploys: false\n'),
    });
    expect(drain({ tree: optedOut, draining: { 'search-api': [CANARY] } }).snapshots.size).toBe(0);
    expect(drain({ tree: optedOut, env: 'staging', draining: { 'search-api': ['x'] } }).snapshots.size).toBe(
      1,
    );
  });

  it('gives a template that ignores draining its published snapshot, the same manifest id', () => {
    const path = 'services/edge-gateway/config/conf.d/upstreams.conf.liquid';
    const ignoring = withChanges(tree, {
      [path]: text(tree, path)
        .replaceAll(' or server.draining', '')
        .replace(/\{% elsif server\.draining %\}[^{]*/, ''),
    });
    const { snapshots } = drain({ tree: ignoring, draining: { 'search-api': [CANARY] } });
    expect(snapshots.get(GATEWAY)?.manifestId).toBe(published(ignoring, 'prod')?.manifestId);
  });

  it('leaves out a consumer whose template fails only while a host drains, and says why', () => {
    const path = 'services/edge-gateway/config/conf.d/upstreams.conf.liquid';
    const fragile = withChanges(tree, {
      [path]: text(tree, path).replace(
        '{%- for server in upstream.hosts %}',
        '{%- for server in upstream.hosts %}{% if server.draining %}{{ server.no_such_field }}{% endif %}',
      ),
    });
    // Published, it renders: no host drains.
    expect(fileOf(published(fragile, 'prod'), UPSTREAMS)).toContain(CANARY);
    const { snapshots, failures } = drain({ tree: fragile, draining: { 'search-api': [CANARY] } });
    expect(snapshots.size).toBe(0);
    expect(failures.get(GATEWAY)).toEqual([
      expect.objectContaining({ file: path, rule: 'template/unknown-variable', severity: 'error' }),
    ]);
  });

  it('shares the model cache of the published loads without changing what they render', () => {
    const cache = createRepoModelCache();
    const first = loadConfigRepo(tree, trustManifests, cache).repo.services.get(GATEWAY);
    const drained = drainedSnapshotsOf({
      tree,
      checkManifest: trustManifests,
      cache,
      env: 'prod',
      draining: new Map([['search-api', new Set([CANARY])]]),
    });
    expect(fileOf(drained.snapshots.get(GATEWAY), UPSTREAMS)).toContain('(draining: deploying)');
    const again = loadConfigRepo(tree, trustManifests, cache).repo.services.get(GATEWAY);
    const prod = (service: typeof first) => (service ? environmentSnapshotOf(service, 'prod') : undefined);
    expect(prod(again)?.manifestId).toBe(prod(first)?.manifestId);
    expect(fileOf(prod(again), UPSTREAMS)).not.toContain('draining');
  });
});
