import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ConfigRepo,
  createRepoModelCache,
  desiredStateOf,
  FolderTree,
  loadConfigRepo,
  type ParseVerdict,
  type ParseVerdicts,
  parseConfigFilesAhead,
  type Revision,
} from '../core/index.js';
import { exampleTree, text, withChanges } from '../test/support/example-repo.js';
import { checkManifest } from './manifest-checker.js';
import { checkSemantics } from './semantic-checks.js';
import { validateRepo, validateRepoInSlices } from './validate-repo.js';

const revision: Revision = { commit: '0'.repeat(40), author: { name: '', email: '' }, message: '', time: '' };
const stateOf = (repo: Parameters<typeof desiredStateOf>[0]['branch']['repo']) =>
  desiredStateOf({ branch: { name: 'main', repo, revision }, tagged: new Map() });

/** Edits that touch every kind of input a cached service depends on. */
const EDITS: ((tree: Map<string, Uint8Array>) => Record<string, string | null>)[] = [
  () => ({ 'services/recommender/config/application.yaml': 'server: { port: 1 }\n' }),
  () => ({ 'services/recommender/config/@prod/application.yaml': 'server: { port: 2 }\n' }),
  () => ({ 'services/recommender/config/@prod/application.yaml': null }),
  () => ({ 'services/search-api/config/new.json': '{"a": 1}\n' }),
  () => ({ 'services/search-api/config/new.json': '{"a": }\n' }),
  (tree) => ({
    'cairn.yaml': text(tree, 'cairn.yaml').replace('maxFileBytes: 524288', 'maxFileBytes: 1000'),
  }),
  (tree) => ({ 'cairn.yaml': text(tree, 'cairn.yaml').replace(/ {2}staging:\n(.*\n){3}/, '') }),
  (tree) => ({
    'services/edge-gateway/service.yaml': text(tree, 'services/edge-gateway/service.yaml').replace(
      'dependsOn: [search-api, recommender]',
      'dependsOn: [search-api]',
    ),
  }),
  // A service of the gateway's dependsOn moves a host: the gateway's templates render again.
  (tree) => ({
    'services/search-api/service.yaml': text(tree, 'services/search-api/service.yaml').replace(
      'search-dev-01.dc1',
      'search-dev-09.dc1',
    ),
  }),
  (tree) => ({
    'services/edge-gateway/config/conf.d/upstreams.conf.liquid': text(
      tree,
      'services/edge-gateway/config/conf.d/upstreams.conf.liquid',
    ).replace('keepalive {{ keepalive }};', 'keepalive 1;'),
  }),
  () => ({ 'services/nightly-reports/releases/prod.yaml': null }),
  () => ({ 'services/nightly-reports/notes.txt': 'stray\n' }),
  // Paths a folder-by-folder sort must place as a path-by-path one does.
  () => ({ 'services/search-api/config/bad\\name.yaml': 'a: 1\n', 'services/README.md': 'services\n' }),
  () => ({ 'services/new-service/notes.txt': 'a: 1\n', 'services.yaml': 'x: 1\n' }),
];

describe('the repository model cache', () => {
  let base: Map<string, Uint8Array>;
  beforeAll(async () => {
    base = await exampleTree();
  });

  it('gives exactly what a load without cache gives, whatever the sequence of commits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: EDITS.length - 1 }), { minLength: 1, maxLength: 8 }),
        (sequence) => {
          const cache = createRepoModelCache();
          let tree = base;
          validateRepo(tree, { cache });
          for (const index of sequence) {
            // Each commit starts from the example, as a revert would, so edits combine and undo.
            tree = withChanges(
              index % 3 === 0 ? base : tree,
              (EDITS[index] as (t: Map<string, Uint8Array>) => Record<string, string | null>)(base),
            );
            const cached = validateRepo(tree, { cache });
            const fresh = validateRepo(tree);
            expect(cached.diagnostics).toEqual(fresh.diagnostics);
            expect(stateOf(cached.repo)).toEqual(stateOf(fresh.repo));
            expect(documentValues(cached.repo.documents)).toEqual(documentValues(fresh.repo.documents));
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('gives exactly what a load without cache gives on a FolderTree that shares unchanged folders', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: EDITS.length - 1 }), { minLength: 1, maxLength: 8 }),
        (sequence) => {
          const cache = createRepoModelCache();
          let plain = base;
          let tree = FolderTree.of(base);
          validateRepo(tree, { cache });
          for (const index of sequence) {
            const next = withChanges(
              index % 3 === 0 ? base : plain,
              (EDITS[index] as (t: Map<string, Uint8Array>) => Record<string, string | null>)(base),
            );
            // As the git source makes it: only what changed is set, every other folder is shared.
            tree = tree.withChanges(
              [...next].filter(([path, bytes]) => plain.get(path) !== bytes),
              [...plain.keys()].filter((path) => !next.has(path)),
            );
            plain = next;
            const cached = validateRepo(tree, { cache });
            const fresh = validateRepo(plain);
            expect(cached.diagnostics).toEqual(fresh.diagnostics);
            expect(stateOf(cached.repo)).toEqual(stateOf(fresh.repo));
            expect(documentValues(cached.repo.documents)).toEqual(documentValues(fresh.repo.documents));
            expect([...cached.repo.serviceNames]).toEqual([...fresh.repo.serviceNames]);
          }
        },
      ),
      { numRuns: 20 },
    );
  });

  it('gives exactly what a load without cache gives when every process starts from the verdicts of the last', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: EDITS.length - 1 }), { minLength: 1, maxLength: 8 }),
        (sequence) => {
          // Verdicts outlive the process; the model cache in memory does not: a new one per commit.
          const verdicts = verdictStore();
          let tree = base;
          validateRepo(tree, { cache: createRepoModelCache(verdicts) });
          for (const index of sequence) {
            tree = withChanges(
              index % 3 === 0 ? base : tree,
              (EDITS[index] as (t: Map<string, Uint8Array>) => Record<string, string | null>)(base),
            );
            const restarted = validateRepo(tree, { cache: createRepoModelCache(verdicts) });
            const fresh = validateRepo(tree);
            expect(restarted.diagnostics).toEqual(fresh.diagnostics);
            expect(stateOf(restarted.repo)).toEqual(stateOf(fresh.repo));
          }
        },
      ),
      { numRuns: 8 },
    );
  });

  it('gives in slices, with a pause after every service, exactly what one go gives, the cache shared', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: EDITS.length - 1 }), { minLength: 1, maxLength: 6 }),
        async (sequence) => {
          const cache = createRepoModelCache();
          // A clock by which every slice is spent: the load pauses after each service.
          let clock = 0;
          const everyService = { cache, sliceMs: 1, now: () => (clock += 2) };
          let tree = base;
          await validateRepoInSlices(tree, everyService);
          for (const index of sequence) {
            tree = withChanges(
              index % 3 === 0 ? base : tree,
              (EDITS[index] as (t: Map<string, Uint8Array>) => Record<string, string | null>)(base),
            );
            const sliced = await validateRepoInSlices(tree, everyService);
            const fresh = validateRepo(tree);
            expect(sliced.diagnostics).toEqual(fresh.diagnostics);
            expect(stateOf(sliced.repo)).toEqual(stateOf(fresh.repo));
            expect(documentValues(sliced.repo.documents)).toEqual(documentValues(fresh.repo.documents));
          }
        },
      ),
      { numRuns: 10 },
    );
  });

  it('parses no file again after a restart, overlays and manifests included', () => {
    const verdicts = verdictStore();
    const first = validateRepo(base, { cache: createRepoModelCache(verdicts) });
    expect(first.filesParsed).toBeGreaterThan(20);
    const restarted = validateRepo(base, { cache: createRepoModelCache(verdicts) });
    expect(restarted.filesParsed).toBe(0);
    expect(stateOf(restarted.repo)).toEqual(stateOf(first.repo));
  });

  it('parses a file again when its bytes changed, and a file with findings every time', () => {
    const verdicts = verdictStore();
    const tree = withChanges(base, {
      'services/recommender/config/application.yaml': 'server: { port: 1 }\n',
      'services/search-api/config/broken.json': '{"a": }\n',
    });
    validateRepo(tree, { cache: createRepoModelCache(verdicts) });
    const restarted = validateRepo(
      withChanges(tree, { 'services/recommender/config/application.yaml': 'server: { port: 2 }\n' }),
      { cache: createRepoModelCache(verdicts) },
    );
    // The changed file, its three overlays (@dev, @prod, @staging) merged over it again, and the
    // broken file, reported again.
    expect(restarted.filesParsed).toBe(5);
    expect(restarted.diagnostics.map((d) => d.rule)).toContain('json/syntax');
  });

  it('gives what a load gives when the changed files were parsed ahead, parsing no file twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: EDITS.length - 1 }), { minLength: 1, maxLength: 6 }),
        async (sequence) => {
          const ahead = createRepoModelCache();
          const plain = createRepoModelCache();
          let tree = base;
          let previous: Map<string, Uint8Array> | undefined;
          for (const index of [-1, ...sequence]) {
            if (index >= 0) {
              tree = withChanges(
                index % 3 === 0 ? base : tree,
                (EDITS[index] as (t: Map<string, Uint8Array>) => Record<string, string | null>)(base),
              );
            }
            const changed = [...tree.keys()].filter((path) => previous?.get(path) !== tree.get(path));
            previous = tree;
            const parsedAhead = await parseConfigFilesAhead(tree, changed, ahead, { sliceMs: 0 });
            const loaded = validateRepo(tree, { cache: ahead });
            const expected = validateRepo(tree, { cache: plain });
            expect(loaded.diagnostics).toEqual(expected.diagnostics);
            expect(stateOf(loaded.repo)).toEqual(stateOf(expected.repo));
            expect(parsedAhead + loaded.filesParsed).toBe(expected.filesParsed);
          }
        },
      ),
      { numRuns: 10 },
    );
  });

  it('leaves only manifests to a first load once every file was parsed ahead', async () => {
    const cache = createRepoModelCache(verdictStore());
    const parsedAhead = await parseConfigFilesAhead(base, base.keys(), cache);
    const loaded = validateRepo(base, { cache });
    const manifests = [...base.keys()].filter((path) =>
      /^(cairn|policy)\.yaml$|^services\/[^/]+\/(service\.yaml|releases\/)/.test(path),
    );
    expect(parsedAhead).toBeGreaterThan(20);
    expect(loaded.filesParsed).toBe(manifests.length);
    expect(loaded.diagnostics).toEqual(validateRepo(base).diagnostics);
  });

  it('checks again only the services whose object changed, and what every service names of others', () => {
    const cache = createRepoModelCache();
    validateRepo(base, { cache });
    const tree = withChanges(base, {
      'services/recommender/service.yaml': recommenderWithDuplicateHost(base),
    });
    const { repo } = loadConfigRepo(tree, checkManifest, cache);
    const looked: string[] = [];
    const documents = {
      get(path: string) {
        looked.push(path);
        return repo.documents.get(path);
      },
    } as ConfigRepo['documents'];

    const findings = checkSemantics({ ...repo, documents }, tree.keys());

    expect(looked.filter((path) => path.startsWith('services/search-api/'))).toEqual([]);
    expect(looked).toContain('services/recommender/service.yaml');
    expect(findings.map((d) => d.rule)).toContain('service/duplicate-host');
    expect(findings).toEqual(checkSemantics(validateRepo(tree).repo, tree.keys()));
  });

  it('keeps the Service object of a service whose files did not change', () => {
    const cache = createRepoModelCache();
    const first = validateRepo(base, { cache }).repo;
    const second = validateRepo(
      withChanges(base, { 'services/recommender/config/application.yaml': 'a: 1\n' }),
      { cache },
    ).repo;
    expect(second.services.get('search-api')).toBe(first.services.get('search-api'));
    expect(second.services.get('recommender')).not.toBe(first.services.get('recommender'));
  });
});

/** Every parsed file's path and value, in path order, each looked up as a check does. */
function documentValues(documents: ReadonlyMap<string, { readonly value: unknown }>): [string, unknown][] {
  const paths = [...documents.keys()].sort();
  expect(paths.length).toBe(documents.size);
  return paths.map((path) => [path, documents.get(path)?.value]);
}

/** Verdicts as a syncer keeps them between runs, in memory here. */
function verdictStore(): ParseVerdicts {
  const kept = new Map<string, ParseVerdict>();
  return { get: (key) => kept.get(key), set: (key, verdict) => void kept.set(key, verdict) };
}

/** recommender's service.yaml with its first host listed twice. */
function recommenderWithDuplicateHost(tree: Map<string, Uint8Array>): string {
  const manifest = text(tree, 'services/recommender/service.yaml');
  const host = /- host: ([^\s]+)/.exec(manifest)?.[1] as string;
  return manifest.replace(`- host: ${host}`, `- host: ${host}\n      - host: ${host}`);
}
