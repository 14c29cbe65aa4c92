import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeEnvironmentPointer,
  decodeHeadRecord,
  desiredStateOf,
  type Revision,
  readEnvironment,
  readRepoDir,
} from '../../core/index.js';
import { validateRepo } from '../../schemas/index.js';
import type { Mirror } from '../../syncer/mirror.js';
import {
  type MirrorView,
  type SyncerFixture,
  startSyncerFixture,
  viewOf,
} from '../support/syncer-fixture.js';

describe('environments that track release tags', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  beforeAll(async () => {
    f = await startSyncerFixture({ tagTracking: true });
    mirror = f.newMirror();
  });
  afterAll(async () => {
    await f?.close();
  });

  const head = async () => decodeHeadRecord((await f.session.get(f.layout.head())).data);
  const prodApplication = async () => {
    const read = await readEnvironment(f.session, f.layout, 'recommender', 'prod');
    if (read.kind !== 'snapshot') throw new Error('prod serves nothing');
    return Buffer.from(read.snapshot.files.get('application.yaml') ?? []).toString();
  };
  const setProdConcurrency = async (value: number) => {
    const path = 'services/recommender/config/@prod/application.yaml';
    const source = await f.work.git('show', `HEAD:${path}`);
    await f.work.write({
      [path]: `${source.replace(/maxConcurrentRequests: \d+/, `maxConcurrentRequests: ${value}`)}\n`,
    });
    return f.work.commit(`Prod concurrency ${value}`);
  };
  const pushAll = async () => {
    await f.work.push(f.repoUrl);
    await f.work.push(f.repoUrl, 'refs/tags/*:refs/tags/*', { force: true });
  };
  /** What readers should find: main's model, with prod taken from the commit `prodCommit`. */
  const expected = async (prodCommit: string | undefined): Promise<MirrorView> => {
    const modelAt = async (commit: string) => {
      const dir = join(await mkdtemp(join(tmpdir(), 'cairn-tag-tree-')), 'tree');
      await f.work.git('worktree', 'add', '--detach', dir, commit);
      return validateRepo((await readRepoDir(dir)).tree).repo;
    };
    const any: Revision = { commit: '0'.repeat(40), author: { name: '', email: '' }, message: '', time: '' };
    const tagged = new Map([
      ['prod', prodCommit ? { repo: await modelAt(prodCommit), revision: any } : undefined],
    ]);
    return viewOf(
      desiredStateOf({
        branch: { name: 'main', repo: await modelAt(await f.work.head()), revision: any },
        tagged,
      }),
    );
  };

  it('publishes nothing to prod before the first release tag', async () => {
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    expect(await f.session.exists(f.layout.environment('recommender', 'prod'))).toBeUndefined();
    expect(await f.session.exists(f.layout.release('recommender', 'prod'))).toBeUndefined();
    expect(await f.session.exists(f.layout.environment('recommender', 'staging'))).toBeDefined();
    const record = await head();
    expect(Object.keys(record.environments ?? {}).sort()).toEqual(['dev', 'staging']);
    expect(await f.actualView()).toEqual(await expected(undefined));
  });

  it('publishes prod from the newest matching tag, and only from it', async () => {
    const released = await setProdConcurrency(1300);
    await f.work.git('tag', 'v2.14.0', released);
    await pushAll();
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    expect(await prodApplication()).toContain('maxConcurrentRequests: 1300');
    expect((await head()).environments?.prod).toMatchObject({
      commit: released,
      tag: 'v2.14.0',
      message: 'Prod concurrency 1300',
    });
    expect(await f.actualView()).toEqual(await expected(released));

    // A merge to main without a tag changes dev and staging, not prod.
    const unreleased = await setProdConcurrency(1400);
    await pushAll();
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    expect(await prodApplication()).toContain('maxConcurrentRequests: 1300');
    expect(await head()).toMatchObject({ commit: unreleased, environments: { prod: { commit: released } } });
    expect(await f.actualView()).toEqual(await expected(released));
  });

  it('follows a new release tag (annotated) without a new commit on main', async () => {
    const commit = await f.work.head();
    await f.work.git('tag', '-a', 'v2.14.1', '-m', 'Release 2.14.1', commit);
    await pushAll();
    const outcome = await mirror.sync(f.target);
    expect(outcome.kind).toBe('mirrored');
    expect(await prodApplication()).toContain('maxConcurrentRequests: 1400');
    expect((await head()).environments?.prod).toMatchObject({ commit, tag: 'v2.14.1' });
    // The pointer names the tag that brought its files: what the SDK reports for prod.
    const pointer = decodeEnvironmentPointer(
      (await f.session.get(f.layout.environment('recommender', 'prod'))).data,
    );
    expect(pointer.revision).toMatchObject({ commit, tag: 'v2.14.1' });
  });

  it('orders tags as versions: v2.9.0 is older than v2.14.1', async () => {
    const later = await setProdConcurrency(999);
    await f.work.git('tag', 'v2.9.0', later);
    await pushAll();
    await mirror.sync(f.target);
    expect(await prodApplication()).toContain('maxConcurrentRequests: 1400');
    expect((await head()).environments?.prod?.tag).toBe('v2.14.1');
  });

  it('falls back to the previous release when the newest tag is deleted', async () => {
    await f.work.git('tag', '-d', 'v2.14.1');
    await f.work.push(f.repoUrl, ':refs/tags/v2.14.1');
    await mirror.sync(f.target);
    const record = await head();
    expect(record.environments?.prod?.tag).toBe('v2.14.0');
    expect(await prodApplication()).toContain('maxConcurrentRequests: 1300');
    expect(await f.actualView()).toEqual(await expected(record.environments?.prod?.commit));
  });

  it('serves a release tagged on a hotfix branch that main never had', async () => {
    const mainHead = await f.work.head();
    await f.work.git('checkout', '-q', '-b', 'hotfix', 'v2.14.0');
    const hotfix = await setProdConcurrency(1350);
    await f.work.git('tag', 'v2.14.5', hotfix);
    await f.work.git('checkout', '-q', 'main');
    // Only the tag is pushed: its commit reaches the syncer through the tag alone.
    await f.work.push(f.repoUrl, 'refs/tags/v2.14.5:refs/tags/v2.14.5');
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    expect(await prodApplication()).toContain('maxConcurrentRequests: 1350');
    expect(await head()).toMatchObject({
      commit: mainHead,
      environments: { prod: { commit: hotfix, tag: 'v2.14.5' } },
    });
    expect(await f.actualView()).toEqual(await expected(hotfix));
  });
});
