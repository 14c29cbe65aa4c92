import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateRepo } from '../schemas/index.js';
import { exampleTree, withChanges } from '../test/support/example-repo.js';
import { type ConfigRepo, createRepoModelCache } from './config-repo.js';
import { contentId } from './content-id.js';
import { type DesiredState, desiredStateOf, environmentKey } from './desired-state.js';
import {
  EMPTY_PUBLISHED_STATE,
  isEmptyPublication,
  type PublishedState,
  planPublication,
  publicationCounts,
  publishedStateAfter,
  publishedStateOf,
} from './publication.js';
import { decodeEnvironmentPointer } from './records/environment-pointer.js';
import type { Revision } from './records/revision.js';
import type { RepoTree } from './repo-tree.js';
import { ZkLayout } from './zk-layout.js';
import type { ZkOp } from './zookeeper/zk-client.js';

const layout = new ZkLayout('/cairn');
const revision = (commit: string, tag?: string): Revision => ({
  commit: commit.repeat(40),
  ...(tag ? { tag } : {}),
  author: { name: 'Ada', email: 'ada@northwind.example' },
  message: `commit ${commit}`,
  time: '2026-11-23T10:00:00.000Z',
});
const modelOf = (tree: RepoTree): ConfigRepo => {
  const { repo, diagnostics } = validateRepo(tree);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return repo;
};
/** Every environment follows main: the example's prod follows tags, which tests below cover apart. */
const onMain = (tree: Map<string, Uint8Array>) =>
  withChanges(tree, {
    'cairn.yaml': Buffer.from(tree.get('cairn.yaml') ?? [])
      .toString()
      .replace(/tag: "v\*"/, 'branch: main'),
  });
const stateOf = (tree: RepoTree, commit = 'a'): DesiredState =>
  desiredStateOf({
    branch: { name: 'main', repo: modelOf(tree), revision: revision(commit) },
    tagged: new Map(),
  });
const empty = EMPTY_PUBLISHED_STATE;
const paths = (ops: readonly ZkOp[], kind: ZkOp['op']) =>
  ops.filter((op) => op.op === kind).map((op) => op.path);

describe('the desired state of a repository', () => {
  let tree: Map<string, Uint8Array>;
  beforeAll(async () => {
    tree = onMain(await exampleTree());
  });

  it('has one snapshot per service and environment, and every file’s content once', () => {
    const state = stateOf(tree);
    expect([...state.environments.keys()]).toContain('recommender/prod');
    const dev = state.environments.get('recommender/dev');
    expect([...(dev?.manifest.files.keys() ?? [])]).toEqual([
      'application.yaml',
      'feature-flags.json',
      'rules/blocklist.yaml',
      'rules/boost.yaml',
    ]);
    // Neither dev nor staging overlays rules/boost.yaml: both serve the base file, one content node.
    const boost = dev?.manifest.files.get('rules/boost.yaml') as string;
    expect(state.environments.get('recommender/staging')?.manifest.files.get('rules/boost.yaml')).toBe(boost);
    expect(contentId(state.contents.get(boost) as Uint8Array)).toBe(boost);
    const ids = [...state.environments.values()].flatMap((e) => [...e.manifest.files.values(), e.manifestId]);
    expect(state.contents.size).toBe(new Set(ids).size);
    expect(state.contents.size).toBeLessThan(ids.length);
  });

  it('serves an environment that follows tags from its tag, and none while no tag matches', () => {
    const tagged = withChanges(tree, {
      'services/recommender/config/@prod/application.yaml': 'ranking:\n  maxResults: 7\n',
    });
    const settings = Buffer.from(tree.get('cairn.yaml') ?? [])
      .toString()
      .replace(/(prod:[\s\S]*?)branch: main/, '$1tag: "v*"');
    const branchTree = withChanges(tree, { 'cairn.yaml': settings });
    const taggedTree = withChanges(tagged, { 'cairn.yaml': settings });
    const withTag = desiredStateOf({
      branch: { name: 'main', repo: modelOf(branchTree), revision: revision('b') },
      tagged: new Map([['prod', { repo: modelOf(taggedTree), revision: revision('c', 'v2.0.0') }]]),
    });
    expect(withTag.revisions.prod).toEqual(revision('c', 'v2.0.0'));
    expect(withTag.revisions.dev).toEqual(revision('b'));
    const prodApp = withTag.environments
      .get('recommender/prod')
      ?.manifest.files.get('application.yaml') as string;
    expect(Buffer.from(withTag.contents.get(prodApp) ?? []).toString()).toContain('maxResults: 7');

    const noTag = desiredStateOf({
      branch: { name: 'main', repo: modelOf(branchTree), revision: revision('b') },
      tagged: new Map([['prod', undefined]]),
    });
    expect([...noTag.environments.keys()].filter((key) => key.endsWith('/prod'))).toEqual([]);
    expect(noTag.revisions.prod).toBeUndefined();
    expect([...noTag.releases.keys()].filter((key) => key.endsWith('/prod'))).toEqual([]);
  });

  it('leaves out an environment that follows another branch, and says why', () => {
    const settings = Buffer.from(tree.get('cairn.yaml') ?? [])
      .toString()
      .replace(/(staging:[\s\S]*?)branch: main/, '$1branch: release');
    const state = stateOf(withChanges(tree, { 'cairn.yaml': settings }));
    expect(state.unserved).toEqual([
      { env: 'staging', reason: 'it follows branch "release" and this syncer mirrors "main"' },
    ]);
    expect([...state.environments.keys()].filter((key) => key.endsWith('/staging'))).toEqual([]);
  });
});

describe('publishing a desired state', () => {
  let tree: Map<string, Uint8Array>;
  let first: DesiredState;
  beforeAll(async () => {
    tree = onMain(await exampleTree());
    first = stateOf(tree);
  });

  it('stages every content node, then flips pointers, services, releases and their folders', () => {
    const publication = planPublication(layout, empty, first);
    expect(paths(publication.stage, 'create')).toHaveLength(first.contents.size);
    expect(paths(publication.stage, 'create').every((p) => p.startsWith('/cairn/content/'))).toBe(true);
    const creates = paths(publication.flip, 'create');
    expect(creates).toContain('/cairn/config/recommender');
    expect(creates).toContain('/cairn/config/recommender/prod');
    expect(creates).toContain('/cairn/services/recommender');
    expect(creates).toContain('/cairn/releases/recommender/prod');
    // Parents before children.
    expect(creates.indexOf('/cairn/config/recommender')).toBeLessThan(
      creates.indexOf('/cairn/config/recommender/prod'),
    );
    const pointer = publication.flip.find((op) => op.path === '/cairn/config/recommender/dev') as ZkOp & {
      data: Uint8Array;
    };
    expect(decodeEnvironmentPointer(pointer.data)).toMatchObject({
      revision: revision('a'),
      manifest: first.environments.get('recommender/dev')?.manifestId,
      files: 4,
    });
    expect(publication.snapshots).toContainEqual({
      service: 'recommender',
      env: 'dev',
      to: first.environments.get('recommender/dev')?.manifestId,
    });
  });

  it('changes nothing when nothing changed, whatever the commit', () => {
    expect(isEmptyPublication(planPublication(layout, publishedStateOf(first), stateOf(tree, 'b')))).toBe(
      true,
    );
  });

  it('rewrites only the pointers whose files changed: other services’ readers are not woken', () => {
    const next = stateOf(
      withChanges(tree, {
        'services/recommender/config/@dev/application.yaml': 'ranking:\n  maxResults: 11\n',
      }),
      'b',
    );
    const publication = planPublication(layout, publishedStateOf(first), next);
    expect(publication.flip.map((op) => `${op.op} ${op.path}`)).toEqual([
      'set /cairn/config/recommender/dev',
    ]);
    // The new file and the new manifest; everything else exists already.
    expect(publication.newContent).toHaveLength(2);
    expect(publication.snapshots).toEqual([
      {
        service: 'recommender',
        env: 'dev',
        from: first.environments.get('recommender/dev')?.manifestId,
        to: next.environments.get('recommender/dev')?.manifestId,
      },
    ]);
    expect(publicationCounts(publication)).toEqual({ creates: 2, updates: 1, removes: 0 });
  });

  it('removes a retired service without a trace, children before parents, content left to collection', () => {
    const retired = withChanges(
      tree,
      Object.fromEntries(
        [...tree.keys()].filter((p) => p.startsWith('services/nightly-reports/')).map((p) => [p, null]),
      ),
    );
    const publication = planPublication(layout, publishedStateOf(first), stateOf(retired, 'b'));
    const removes = paths(publication.flip, 'remove');
    expect(removes).toEqual([
      '/cairn/config/nightly-reports/dev',
      '/cairn/config/nightly-reports/prod',
      '/cairn/config/nightly-reports/staging',
      ...removes.filter((p) => p.startsWith('/cairn/releases/nightly-reports/')),
      '/cairn/services/nightly-reports',
      '/cairn/config/nightly-reports',
      '/cairn/releases/nightly-reports',
    ]);
    expect(publication.stage).toEqual([]);
  });

  it('removes nodes no record explains before the flip, and writes over an unreadable pointer', () => {
    const published: PublishedState = {
      ...publishedStateOf(first),
      environments: new Map([
        ...publishedStateOf(first).environments,
        ['recommender/dev', { service: 'recommender', env: 'dev', manifestId: undefined }],
      ]),
      strays: ['/cairn/config/recommender/dev/rules/boost.yaml', '/cairn/config/recommender/dev/rules'],
    };
    const publication = planPublication(layout, published, first);
    expect(paths(publication.stage, 'remove')).toEqual(published.strays);
    expect(publication.flip.map((op) => `${op.op} ${op.path}`)).toEqual([
      'set /cairn/config/recommender/dev',
    ]);
  });

  it('keys environments by service and environment', () => {
    expect(environmentKey('recommender', 'prod')).toBe('recommender/prod');
  });
});

describe('configuration that rides the release’s rollout', () => {
  let tree: Map<string, Uint8Array>;
  beforeAll(async () => {
    tree = onMain(await exampleTree());
  });
  /** dev rolls recommender's configuration out with its release (cairn.yaml's setting). */
  const withRelease = (t: Map<string, Uint8Array>) =>
    withChanges(t, {
      'cairn.yaml': Buffer.from(t.get('cairn.yaml') ?? [])
        .toString()
        .replace(/(dev:\n[\s\S]*?tracks:\n\s+branch: main)/, '$1\n    configRollout: with-release'),
    });
  const pointerOf = (ops: readonly ZkOp[], env: string) => {
    const op = ops.find((o) => o.path === `/cairn/config/recommender/${env}`) as
      | (ZkOp & { data: Uint8Array })
      | undefined;
    return op ? decodeEnvironmentPointer(op.data) : undefined;
  };
  const changed = (t: Map<string, Uint8Array>, maxResults: number) =>
    withChanges(t, {
      'services/recommender/config/@dev/application.yaml': `ranking:\n  maxResults: ${maxResults}\n`,
    });

  it('keeps the hosts on the snapshot served before, in the flip that moves the pointer', () => {
    const first = stateOf(withRelease(tree), 'a');
    const created = planPublication(layout, empty, first);
    // A new environment has nothing to keep.
    expect(pointerOf(created.flip, 'dev')?.rollout).toEqual({});
    expect(pointerOf(created.flip, 'staging')?.rollout).toBeUndefined();
    const second = stateOf(changed(withRelease(tree), 11), 'b');
    const moved = planPublication(
      layout,
      { ...publishedStateOf(first), environments: created.pointers },
      second,
    );
    const dev = pointerOf(moved.flip, 'dev');
    expect(dev?.manifest).toBe(second.environments.get('recommender/dev')?.manifestId);
    expect(dev?.rollout?.baseline).toEqual({
      manifest: first.environments.get('recommender/dev')?.manifestId,
      revision: revision('a'),
    });
    // A third change during the rollout keeps the same baseline: the hosts not reached still serve it.
    const third = stateOf(changed(withRelease(tree), 12), 'c');
    const again = planPublication(
      layout,
      { ...publishedStateOf(second), environments: moved.pointers },
      third,
    );
    expect(pointerOf(again.flip, 'dev')?.rollout?.baseline).toEqual(dev?.rollout?.baseline);
  });

  it('drops the rollout from the pointer when the environment no longer rides it, and needs a release', () => {
    const first = stateOf(withRelease(tree), 'a');
    const published = {
      ...publishedStateOf(first),
      environments: planPublication(layout, empty, first).pointers,
    };
    const immediate = stateOf(tree, 'a');
    const publication = planPublication(layout, published, immediate);
    expect(publication.environments.changed).toContain('recommender/dev');
    expect(pointerOf(publication.flip, 'dev')?.rollout).toBeUndefined();
    // Only the rollout changed: the history says no snapshot changed.
    expect(publication.snapshots).toEqual([]);
    // Without a release manifest for the environment, a change goes live at once.
    const noRelease = stateOf(
      withChanges(withRelease(tree), { 'services/recommender/releases/dev.yaml': null }),
      'b',
    );
    expect(noRelease.environments.get('recommender/dev')?.configRollout).toBe(false);
  });
});

describe('a consumer that drains during deploys', () => {
  let tree: Map<string, Uint8Array>;
  beforeAll(async () => {
    tree = onMain(await exampleTree());
  });
  const gatewayPointer = (ops: readonly ZkOp[], env: string) => {
    const op = ops.find((o) => o.path === `/cairn/config/edge-gateway/${env}`) as
      | (ZkOp & { data: Uint8Array })
      | undefined;
    return op ? decodeEnvironmentPointer(op.data) : undefined;
  };

  it('has a pointer with a rollout and never a baseline: its hosts follow their assignment, its changes go live at once', () => {
    const first = stateOf(tree, 'a');
    expect(first.environments.get('edge-gateway/dev')?.drains).toBe(true);
    expect(first.environments.get('recommender/dev')?.drains).toBe(false);
    const created = planPublication(layout, empty, first);
    expect(gatewayPointer(created.flip, 'dev')?.rollout).toEqual({});
    const second = stateOf(
      withChanges(tree, {
        'services/edge-gateway/config/nginx.conf': `${Buffer.from(tree.get('services/edge-gateway/config/nginx.conf') ?? [])}\n# changed\n`,
      }),
      'b',
    );
    const moved = planPublication(
      layout,
      { ...publishedStateOf(first), environments: created.pointers },
      second,
    );
    const dev = gatewayPointer(moved.flip, 'dev');
    expect(dev?.manifest).toBe(second.environments.get('edge-gateway/dev')?.manifestId);
    expect(dev?.rollout).toEqual({});
  });

  it('is not drained where its configuration rides its own rollout, and loses the rollout when it stops draining', () => {
    const service = Buffer.from(tree.get('services/edge-gateway/service.yaml') ?? []).toString();
    const riding = stateOf(
      withChanges(tree, {
        'services/edge-gateway/service.yaml': service.replace(
          '  staging:\n',
          '  staging:\n    configRollout: with-release\n',
        ),
      }),
    );
    expect(riding.environments.get('edge-gateway/staging')).toMatchObject({
      drains: false,
      configRollout: true,
    });
    expect(riding.environments.get('edge-gateway/dev')?.drains).toBe(true);
    const first = stateOf(tree, 'a');
    const published = {
      ...publishedStateOf(first),
      environments: planPublication(layout, empty, first).pointers,
    };
    const off = stateOf(
      withChanges(tree, {
        'services/edge-gateway/service.yaml': service.replace('drainDuringDeploys: true\n', ''),
      }),
      'b',
    );
    const publication = planPublication(layout, published, off);
    expect(gatewayPointer(publication.flip, 'dev')?.rollout).toBeUndefined();
    expect(publication.snapshots).toEqual([]);
  });
});

describe('planning from what the syncer published itself', () => {
  let base: Map<string, Uint8Array>;
  beforeAll(async () => {
    base = onMain(await exampleTree());
  });

  /** Edits of one service, of every service (cairn.yaml), a new service, a service gone, and undoing them. */
  const EDITS: ((tree: Map<string, Uint8Array>) => Record<string, string | null>)[] = [
    () => ({ 'services/recommender/config/application.yaml': 'server: { port: 1 }\n' }),
    () => ({ 'services/recommender/config/@prod/application.yaml': null }),
    () => ({ 'services/search-api/config/new.json': '{"a": 1}\n' }),
    // The same bytes as another file: a content id two snapshots share.
    (tree) => ({
      'services/search-api/config/copy.yaml': Buffer.from(
        tree.get('services/recommender/config/application.yaml') ?? [],
      ).toString(),
    }),
    (tree) => ({
      'cairn.yaml': Buffer.from(tree.get('cairn.yaml') ?? [])
        .toString()
        .replace(/ {2}staging:\n(.*\n){3}/, ''),
    }),
    (tree) =>
      Object.fromEntries(
        [...tree.keys()].filter((path) => path.startsWith('services/nightly-reports/')).map((p) => [p, null]),
      ),
    (tree) => ({
      'services/copy-of-search/service.yaml': Buffer.from(
        tree.get('services/search-api/service.yaml') ?? [],
      ).toString(),
      'services/copy-of-search/config/ranking.toml': 'title = "copy"\n',
    }),
  ];

  it('stages and flips exactly what a plan from a full read of the same state does', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: EDITS.length - 1 }), { minLength: 1, maxLength: 8 }),
        (sequence) => {
          const cache = createRepoModelCache();
          let tree = base;
          let published: PublishedState = EMPTY_PUBLISHED_STATE;
          for (const [step, index] of [-1, ...sequence].entries()) {
            if (index >= 0) {
              const edit = EDITS[index] as (t: Map<string, Uint8Array>) => Record<string, string | null>;
              tree = withChanges(index % 4 === 0 ? base : tree, edit(tree));
            }
            const repo = validateRepo(tree, { cache }).repo;
            const desired = desiredStateOf({
              branch: { name: 'main', repo, revision: revision(String(step % 10)) },
              tagged: new Map(),
            });
            const planned = planPublication(layout, published, desired);
            // The same state as a read of ZooKeeper would give it: no manifest known complete.
            const { completeManifests: _, ...read } = published;
            expect(planned).toEqual(planPublication(layout, read, desired));
            expect(planned.newContent).toEqual(
              [...desired.contents.keys()].filter((id) => !published.contents.has(id)),
            );
            published = publishedStateAfter(desired, planned, new Set(published.contents));
            expect(published.contents).toEqual(new Set([...read.contents, ...desired.contents.keys()]));
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('stages again, from a state read from ZooKeeper, content deleted by hand from a snapshot that did not change', () => {
    const desired = stateOf(base);
    const first = planPublication(layout, empty, desired);
    const written = publishedStateAfter(desired, first, new Set());
    const [gone] = [...(desired.environments.get('recommender/dev')?.manifest.files.values() ?? [])];
    const contents = new Set(written.contents);
    contents.delete(gone as string);
    const { completeManifests: _, ...read } = written;

    const again = planPublication(layout, { ...read, contents }, desired);

    expect(again.newContent).toEqual([gone]);
    expect(again.flip).toEqual([]);
  });

  it('looks only at the files of the snapshots that changed, on a state it wrote itself', () => {
    const desired = stateOf(base);
    const written = publishedStateAfter(desired, planPublication(layout, empty, desired), new Set());
    const next = stateOf(
      withChanges(base, { 'services/recommender/config/application.yaml': 'server: { port: 1 }\n' }),
    );
    const looked: string[] = [];
    const contents = new Set(written.contents);
    const spied = Object.assign(new Set(contents), {
      has(id: string) {
        looked.push(id);
        return contents.has(id);
      },
    });

    const planned = planPublication(layout, { ...written, contents: spied }, next);

    const changed = [...next.environments.values()].filter(
      (e) => !written.completeManifests?.has(e.manifestId),
    );
    expect(changed.map((e) => `${e.service}/${e.env}`).sort()).toEqual(
      ['recommender/dev', 'recommender/prod', 'recommender/staging'].sort(),
    );
    expect(new Set(looked)).toEqual(new Set(changed.flatMap((e) => [...e.contents.keys()])));
    expect(planned.newContent.length).toBeGreaterThan(0);
  });
});
