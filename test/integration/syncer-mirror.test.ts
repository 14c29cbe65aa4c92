import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APPROVAL_RECORD_FORMAT,
  contentId,
  decodeEnvironmentManifest,
  decodeEnvironmentPointer,
  decodeHeadRecord,
  decodeHistoryRecord,
  readEnvironment,
  serializeApprovalRecord,
  ZkSession,
} from '../../core/index.js';
import type { Mirror } from '../../syncer/mirror.js';
import { lastRequestIds, normalise } from '../support/server-sessions.js';
import { NOTES_REFSPEC, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

describe('the mirror of a branch in ZooKeeper', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = f.newMirror();
  });
  afterAll(async () => {
    await f?.close();
  });

  const head = async () => decodeHeadRecord((await f.session.get(f.layout.head())).data);
  const history = async (seq: number) =>
    decodeHistoryRecord((await f.session.get(f.layout.historyRecord(seq))).data);
  const pointerStat = async (service: string, env: string) =>
    (await f.session.exists(f.layout.environment(service, env)))?.mzxid;
  const pushAndSync = async (message: string, files: Record<string, string | Uint8Array | null>) => {
    await f.work.write(files);
    const commit = await f.work.commit(message);
    await f.work.push(f.repoUrl);
    const outcome = await mirror.sync(f.target);
    return { commit, outcome };
  };
  const expectExact = async () => {
    expect(await f.actualView()).toEqual(await f.expectedView());
  };
  const contentNodes = async () => {
    let count = 0;
    for (const shard of f.layout.contentShards()) count += (await f.session.childrenIfExists(shard)).length;
    return count;
  };

  it('mirrors the example repository exactly, names the commit in /head and records it in /history', async () => {
    const outcome = await mirror.sync(f.target);
    expect(outcome).toMatchObject({ kind: 'mirrored', staged: false, transactions: 1 });
    await expectExact();
    const record = await head();
    expect(record.commit).toBe(await f.work.head());
    expect(record.message).toBe('Import the Northwind configuration');
    expect(record.seq).toBe(1);
    expect(Object.keys(record.environments).sort()).toEqual(['dev', 'prod', 'staging']);
    expect(await history(1)).toMatchObject({ seq: 1, commit: record.commit });
    expect(await mirror.sync(f.target)).toMatchObject({ kind: 'up-to-date', commit: record.commit });
  });

  it("renders the gateway's files with deploying hosts draining from the model of the commit it serves", async () => {
    const served = (await head()).environments.prod?.commit as string;
    const canary = 'search-prod-02.dc1.northwind.internal';
    const draining = new Map([['search-api', new Set([canary])]]);
    const drained = mirror.drainedSnapshots('prod', served, draining);
    expect(drained?.failures.size).toBe(0);
    const snapshot = drained?.snapshots.get('edge-gateway');
    if (!snapshot) throw new Error('no drained snapshot of the gateway');
    const files = decodeEnvironmentManifest(snapshot.contents.get(snapshot.manifestId) as Uint8Array).files;
    const published = (await f.actualView()).environments['edge-gateway/prod'] ?? {};
    const text = (path: string) =>
      Buffer.from(snapshot.contents.get(files.get(path) as string) ?? []).toString();
    expect(text('conf.d/upstreams.conf')).toContain(`server ${canary}:8080 down;`);
    expect(published['conf.d/upstreams.conf']).not.toContain(`server ${canary}:8080 down;`);
    for (const path of Object.keys(published))
      if (path !== 'conf.d/upstreams.conf') expect(text(path)).toBe(published[path]);
    expect([...files.keys()].sort()).toEqual(Object.keys(published).sort());
    // A commit this replica has not loaded renders nothing: there is nothing to render from.
    expect(mirror.drainedSnapshots('prod', '0'.repeat(40), draining)).toBeUndefined();
  });

  it('stores identical content once, across environments and commits', async () => {
    const { environments } = await f.actualView();
    const files = Object.values(environments).reduce((n, env) => n + Object.keys(env).length, 0);
    const nodes = await contentNodes();
    // One node per distinct file content, plus one manifest per distinct environment.
    expect(nodes).toBeLessThan(files + Object.keys(environments).length);
    const devBoost = await readEnvironment(f.session, f.layout, 'recommender', 'dev');
    const stagingBoost = await readEnvironment(f.session, f.layout, 'recommender', 'staging');
    if (devBoost.kind !== 'snapshot' || stagingBoost.kind !== 'snapshot')
      throw new Error('expected snapshots');
    expect(devBoost.snapshot.contentIds.get('rules/boost.yaml')).toBe(
      stagingBoost.snapshot.contentIds.get('rules/boost.yaml'),
    );
  });

  it('follows adds, edits, deletes and renames, and records the changed paths in the history', async () => {
    await pushAndSync('Add files whose names share prefixes', {
      'services/recommender/config/foo_bar.yaml': 'a: 1\n',
      'services/recommender/config/foo_bar_v2.yaml': 'a: 2\n',
      'services/recommender/config/foo.yaml': 'b: 1\n',
      'services/recommender/config/foobar/foo.yaml': 'c: 1\n',
    });
    await expectExact();
    const { outcome } = await pushAndSync('Rename, edit and delete', {
      'services/recommender/config/foo_bar.yaml': null,
      'services/recommender/config/foo_bar_renamed.yaml': 'a: 1\n',
      'services/recommender/config/foo.yaml': 'b: 2\n',
      'services/recommender/config/foobar/foo.yaml': null,
    });
    expect(outcome.kind).toBe('mirrored');
    // The renamed file's content existed already: only the edited file and the new manifests are new.
    if (outcome.kind === 'mirrored') expect(outcome.contentWritten).toBe(1 + 3);
    await expectExact();
    const { environments } = await f.actualView();
    expect(environments['recommender/prod']?.['foo_bar_v2.yaml']).toBe('a: 2\n');
    expect(environments['recommender/prod']?.['foobar/foo.yaml']).toBeUndefined();
    expect((await history((await head()).seq)).changed).toEqual([
      'services/recommender/config/foo.yaml',
      'services/recommender/config/foo_bar.yaml',
      'services/recommender/config/foo_bar_renamed.yaml',
      'services/recommender/config/foobar/foo.yaml',
    ]);
  });

  it('leaves every other service’s pointers untouched by a commit to one service', async () => {
    const before = await Promise.all([
      pointerStat('search-api', 'dev'),
      pointerStat('recommender', 'staging'),
    ]);
    await pushAndSync('Tune dev ranking only', {
      'services/recommender/config/@dev/application.yaml': 'ranking:\n  maxResults: 9\n',
    });
    await expectExact();
    expect(
      await Promise.all([pointerStat('search-api', 'dev'), pointerStat('recommender', 'staging')]),
    ).toEqual(before);
  });

  it('sends ZooKeeper three requests for a commit to one file: /head, the transaction, the history listing', async () => {
    const requests = async () => {
      const sid = normalise(f.target.session.sessionId);
      const lcxid = (await lastRequestIds(f.zk.port)).get(sid);
      if (lcxid === undefined) throw new Error(`the server lists no session ${sid}`);
      return lcxid;
    };
    await mirror.sync(f.target);
    const before = await requests();
    const { outcome } = await pushAndSync('Tune dev ranking again', {
      'services/recommender/config/@dev/application.yaml': 'ranking:\n  maxResults: 10\n',
    });
    expect(outcome).toMatchObject({ kind: 'mirrored', environments: 1 });
    // The manifest the changed pointer named is the one this mirror published: known by its id, not read.
    expect((await requests()) - before).toBe(3n);
    await expectExact();
  });

  it('turns a file into a folder and back', async () => {
    await f.work.git('rm', '-q', 'services/recommender/config/foo.yaml');
    await pushAndSync('File becomes folder', { 'services/recommender/config/foo.yaml/inner.yaml': 'x: 1\n' });
    await expectExact();
    await f.work.git('rm', '-r', '-q', 'services/recommender/config/foo.yaml');
    await pushAndSync('Folder becomes file', { 'services/recommender/config/foo.yaml': 'y: 1\n' });
    await expectExact();
  });

  it('mirrors empty and binary files byte for byte', async () => {
    const binary = new Uint8Array(256).map((_, i) => i);
    await pushAndSync('Add a binary and an empty file', {
      'services/search-api/config/synonyms.bin': binary,
      'services/search-api/config/EMPTY': '',
    });
    await expectExact();
    const read = await readEnvironment(f.session, f.layout, 'search-api', 'prod');
    if (read.kind !== 'snapshot') throw new Error('expected a snapshot');
    expect(new Uint8Array(read.snapshot.files.get('synonyms.bin') as Uint8Array)).toEqual(binary);
    expect(read.snapshot.files.get('EMPTY')?.length).toBe(0);
  });

  it('removes a deleted service and a deleted environment: no pointer, record or folder stays', async () => {
    const service = await f.work.git('show', 'HEAD:services/nightly-reports/service.yaml');
    const files = (await f.work.git('ls-files', 'services/nightly-reports')).split('\n');
    const mirrored = async () =>
      [
        ...(await f.session.childrenIfExists(f.layout.configDir())),
        ...(await f.session.childrenIfExists(f.layout.servicesDir())),
        ...(await f.session.childrenIfExists(f.layout.releasesDir())),
      ].filter((name) => name === 'nightly-reports');
    await pushAndSync('Retire nightly-reports', Object.fromEntries(files.map((path) => [path, null])));
    await expectExact();
    expect(await mirrored()).toEqual([]);
    // Bring it back with all its files, then drop its dev environment only.
    const restored = Object.fromEntries(
      await Promise.all(
        files.map(async (path) => [path, `${await f.work.git('show', `HEAD~1:${path}`)}\n`] as const),
      ),
    );
    await pushAndSync('Restore nightly-reports', restored);
    await expectExact();
    const withoutDev = service.replace(
      / {2}dev:\n {4}hosts:\n {6}- host: reports-dev-01\.dc1\.northwind\.internal\n/,
      '',
    );
    expect(withoutDev).not.toBe(service);
    await pushAndSync('Stop running nightly-reports in dev', {
      'services/nightly-reports/service.yaml': `${withoutDev}\n`,
      'services/nightly-reports/config/@dev/reports.ini': null,
    });
    await expectExact();
    expect(await f.session.exists(f.layout.environment('nightly-reports', 'dev'))).toBeUndefined();
    expect(await f.session.exists(f.layout.environment('nightly-reports', 'prod'))).toBeDefined();
  });

  it('refuses a commit that fails validation, keeps the last good state, and mirrors the next good one', async () => {
    const before = await f.actualView();
    const goodHead = (await head()).commit;
    const { commit, outcome } = await pushAndSync('Break the recommender', {
      'services/recommender/config/application.yaml': 'server: [\n',
    });
    expect(outcome).toMatchObject({ kind: 'refused', error: { code: 'COMMIT_REFUSED', commit } });
    if (outcome.kind === 'refused')
      expect(outcome.error.message).toContain('services/recommender/config/application.yaml:2');
    expect(await f.actualView()).toEqual(before);
    expect((await head()).commit).toBe(goodHead);
    expect(mirror.refusedCommit?.commit).toBe(commit);
    // Polling again does not re-validate or write.
    expect((await mirror.sync(f.target)).kind).toBe('refused');
    // Deploys still drain from the commit that stays live, never from the refused one.
    const draining = new Map([['search-api', new Set(['search-prod-02.dc1.northwind.internal'])]]);
    expect(mirror.drainedSnapshots('prod', goodHead, draining)?.snapshots.has('edge-gateway')).toBe(true);
    expect(mirror.drainedSnapshots('prod', commit, draining)).toBeUndefined();

    const fix = await f.work.git('show', `${goodHead}:services/recommender/config/application.yaml`);
    const fixed = await pushAndSync('Fix the recommender', {
      'services/recommender/config/application.yaml': `${fix}\n`,
    });
    expect(fixed.outcome.kind).toBe('mirrored');
    expect(mirror.refusedCommit).toBeUndefined();
    await expectExact();
  });

  it('follows the branch as a standby without writing, even a commit it would refuse, and mirrors what it followed parsing nothing again', async () => {
    const standby = f.newMirror();
    const before = await f.actualView();
    const goodHead = (await head()).commit;
    const file = 'services/recommender/config/application.yaml';
    const good = await f.work.git('show', `${goodHead}:${file}`);
    await f.work.write({ [file]: 'server: [\n' });
    const broken = await f.work.commit('Break the recommender while the leader is away');
    await f.work.push(f.repoUrl);
    expect(await standby.follow()).toMatchObject({ commit: broken });
    // Refusing is the leader's part: no /refused, nothing changed.
    expect(await f.session.exists(f.layout.refused())).toBeUndefined();
    expect(await f.actualView()).toEqual(before);
    expect(standby.refusedCommit).toBeUndefined();

    await f.work.write({ [file]: `${good}\n`, 'services/recommender/config/followed.yaml': 'a: 1\n' });
    const fixed = await f.work.commit('Fix it, and add a file');
    await f.work.push(f.repoUrl);
    const followed = await standby.follow();
    expect(followed).toMatchObject({ commit: fixed });
    expect(followed.filesParsed).toBeGreaterThan(0);
    expect((await head()).commit).toBe(goodHead);
    const outcome = await standby.sync(f.target);
    expect(outcome).toMatchObject({ kind: 'mirrored', commit: fixed, filesParsed: 0 });
    await expectExact();
  });

  it('restores the previous state exactly when a commit is reverted, writing no content again', async () => {
    const before = await f.actualView();
    const { commit } = await pushAndSync('Tune prod', {
      'services/recommender/config/@prod/feature-flags.json': '{"everything": true}\n',
      'services/search-api/config/ranking.toml': 'title = "changed"\n',
      'services/edge-gateway/config/extra.conf': 'worker_connections 1;\n',
    });
    expect(await f.actualView()).not.toEqual(before);
    await f.work.git('revert', '--no-edit', commit);
    await f.work.push(f.repoUrl);
    const outcome = await mirror.sync(f.target);
    expect(outcome).toMatchObject({ kind: 'mirrored', contentWritten: 0 });
    expect(await f.actualView()).toEqual(before);
  });

  it('mirrors a force-pushed head and marks it', async () => {
    const previous = (await head()).commit;
    await f.work.git('reset', '--hard', 'HEAD~1');
    await f.work.write({ 'services/recommender/config/hotfix.yaml': 'hot: true\n' });
    await f.work.commit('Rewrite history');
    await f.work.push(f.repoUrl, 'HEAD:refs/heads/main', { force: true });
    const outcome = await mirror.sync(f.target);
    expect(outcome).toMatchObject({ kind: 'mirrored', forced: true, previous });
    expect((await head()).forced).toBe(true);
    await expectExact();
  });

  it('records the bot’s approval note in the commit’s history record, even when it comes late, without touching /head', async () => {
    const note = (pr: number, mergeCommit: string) =>
      serializeApprovalRecord({
        format: APPROVAL_RECORD_FORMAT,
        repository: 'northwind/config',
        pr,
        mergeCommit,
        headSha: mergeCommit,
        baseRef: 'main',
        policyCommit: mergeCommit,
        mergedBy: 'priya-raman',
        satisfied: true,
        rules: [{ rule: 'owners', satisfied: true, satisfiedBy: [] }],
        recordedAt: '2026-11-23T10:00:00.000Z',
      });
    await f.work.write({ 'services/recommender/config/approved.yaml': 'a: 1\n' });
    const merged = await f.work.commit('Merge pull request #7');
    await f.work.git('notes', '--ref', 'cairn-approvals', 'add', '-m', note(7, merged), 'HEAD');
    await f.work.push(f.repoUrl);
    await f.work.push(f.repoUrl, NOTES_REFSPEC);
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    expect((await history((await head()).seq)).approvals).toMatchObject({ pr: 7, satisfied: true });

    // The bot records a merge when GitHub reports it, possibly after the syncer mirrored the commit.
    const { commit } = await pushAndSync('Merge pull request #8', {
      'services/recommender/config/approved.yaml': 'a: 2\n',
    });
    const { seq } = await head();
    expect((await history(seq)).approvals).toBeUndefined();
    const headBefore = await f.session.exists(f.layout.head());
    await f.work.git('notes', '--ref', 'cairn-approvals', 'add', '-m', note(8, commit), commit);
    await f.work.push(f.repoUrl, NOTES_REFSPEC);
    expect(await mirror.sync(f.target)).toMatchObject({ kind: 'up-to-date', commit });
    expect((await history(seq)).approvals).toMatchObject({ pr: 8, mergeCommit: commit });
    // Nobody watching /head (or any pointer) is woken by a late approval record.
    expect((await f.session.exists(f.layout.head()))?.mzxid).toBe(headBefore?.mzxid);

    // A note that is not an approval record is recorded as omitted, with the reason.
    const { commit: third } = await pushAndSync('Merge pull request #9', {
      'services/recommender/config/approved.yaml': 'a: 3\n',
    });
    await f.work.git('notes', '--ref', 'cairn-approvals', 'add', '-m', '{"pr":9}', third);
    await f.work.push(f.repoUrl, NOTES_REFSPEC);
    await mirror.sync(f.target);
    expect((await history((await head()).seq)).approvals).toMatchObject({
      omitted: expect.stringContaining('format'),
    });
  });

  it('repairs a hand-edited tree after a restart: from what ZooKeeper holds, not from memory', async () => {
    const pointer = f.layout.environment('recommender', 'dev');
    const read = await readEnvironment(f.session, f.layout, 'search-api', 'dev');
    if (read.kind !== 'snapshot') throw new Error('expected a snapshot');
    await f.session.set(pointer, Buffer.from('tampered'));
    await f.session.create(`${pointer}/stray.yaml`, Buffer.from('x'));
    await f.session.remove(f.layout.content(read.snapshot.contentIds.get('ranking.toml') as string));
    await f.session.create(f.layout.service('ghost'), Buffer.from('{}'));
    const restarted = f.newMirror();
    expect((await restarted.sync({ ...f.target, term: 2 })).kind).toBe('mirrored');
    await expectExact();
    expect(await f.session.exists(`${pointer}/stray.yaml`)).toBeUndefined();
    expect(await f.session.exists(f.layout.service('ghost'))).toBeUndefined();
    expect(decodeEnvironmentPointer((await f.session.get(pointer)).data).files).toBeGreaterThan(0);
  });

  it('writes a commit larger than one request in stages, and readers never see a mix of two commits', async () => {
    const big = (n: number) => `# ${n}\n${'x'.repeat(100_000)}\n`;
    const files = Object.fromEntries(
      Array.from({ length: 15 }, (_, i) => [`services/recommender/config/big/part-${i}.txt`, big(i)]),
    );
    const readerSession = await ZkSession.connect({ connectString: f.zk.connectString });
    const seen = new Set<string>();
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const read = await readEnvironment(readerSession, f.layout, 'recommender', 'prod');
        if (read.kind !== 'snapshot') continue;
        const parts = [...read.snapshot.files].filter(([path]) => path.startsWith('big/'));
        // All 15 parts or none: a commit being written is never visible in part.
        expect([0, 15]).toContain(parts.length);
        seen.add(`${read.snapshot.pointer.revision.commit}:${parts.length}`);
      }
    })();
    try {
      const { outcome } = await pushAndSync('Add 1.5 MB of model rules', files);
      expect(outcome).toMatchObject({ kind: 'mirrored', staged: true });
      if (outcome.kind === 'mirrored') expect(outcome.transactions).toBeGreaterThan(1);
      await expectExact();
      const { outcome: removal } = await pushAndSync(
        'Remove them again',
        Object.fromEntries(Object.keys(files).map((p) => [p, null])),
      );
      expect(removal.kind).toBe('mirrored');
      await expectExact();
    } finally {
      reading = false;
      await reader;
      await readerSession.close();
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('lets a reader skip the content it already holds, by content id', async () => {
    // New content that no reader of this process has read (readers share what one of them holds).
    const path = 'services/search-api/config/ranking.toml';
    const text = `${await f.work.git('show', `HEAD:${path}`)}\n# read by nobody yet\n`;
    expect((await pushAndSync('Content no reader holds', { [path]: text })).outcome.kind).toBe('mirrored');
    const pointerPath = f.layout.environment('search-api', 'dev');
    const pointer = decodeEnvironmentPointer((await f.session.get(pointerPath)).data, pointerPath);
    const manifestPath = f.layout.content(pointer.manifest);
    const manifest = decodeEnvironmentManifest((await f.session.get(manifestPath)).data, manifestPath);
    const rankingId = manifest.files.get('ranking.toml') as string;
    expect(rankingId).toBe(contentId(Buffer.from(text)));
    const held = new Map([[rankingId, new Uint8Array(Buffer.from(text))]]);
    // Remove the content behind the syncer's back: a reader that holds it does not need it.
    await f.session.remove(f.layout.content(rankingId));
    await expect(readEnvironment(f.session, f.layout, 'search-api', 'dev')).rejects.toMatchObject({
      code: 'CONTENT_MISSING',
    });
    const second = await readEnvironment(f.session, f.layout, 'search-api', 'dev', { known: held });
    if (second.kind !== 'snapshot') throw new Error('expected a snapshot');
    expect(second.snapshot.files.get('ranking.toml')).toBe(held.get(rankingId));
    expect((await f.newMirror().sync({ ...f.target, term: 3 })).kind).toBe('mirrored');
    await expectExact();
  });

  it('refuses a commit with a file over the size limit and keeps the last good state', async () => {
    const before = await f.actualView();
    const { outcome } = await pushAndSync('Add a huge file', {
      'services/recommender/config/huge.txt': 'y'.repeat(600_000),
    });
    expect(outcome.kind).toBe('refused');
    if (outcome.kind === 'refused') expect(outcome.error.diagnostics[0]?.rule).toBe('file/too-large');
    expect(await f.actualView()).toEqual(before);
    await pushAndSync('Remove the huge file', { 'services/recommender/config/huge.txt': null });
  });
});
