import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEnvironmentSnapshot, ZkSession } from '../../core/index.js';
import { decodeHeadRecord } from '../../syncer/head-record.js';
import type { Mirror } from '../../syncer/mirror.js';
import { readable, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

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

  const head = async () => decodeHeadRecord('/cairn/head', (await f.session.get(f.layout.head())).data);
  const pushAndSync = async (message: string, files: Record<string, string | Uint8Array | null>) => {
    await f.work.write(files);
    const commit = await f.work.commit(message);
    await f.work.push(f.repoUrl);
    const outcome = await mirror.sync();
    return { commit, outcome };
  };
  const expectExact = async () => {
    expect(readable(await f.actualInventory())).toEqual(readable(await f.expectedInventory()));
  };

  it('mirrors the example repository exactly, and names the commit in /head', async () => {
    const outcome = await mirror.sync();
    expect(outcome).toMatchObject({ kind: 'mirrored', staged: false, transactions: 1 });
    await expectExact();
    const record = await head();
    expect(record.commit).toBe(await f.work.head());
    expect(record.message).toBe('Import the Northwind configuration');
    expect(await mirror.sync()).toEqual({ kind: 'up-to-date', commit: record.commit });
  });

  it('follows adds, edits, deletes and renames, with names that share prefixes', async () => {
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
    await expectExact();
    const actual = await f.actualInventory();
    expect(actual.has('/cairn/config/recommender/prod/foo_bar_v2.yaml')).toBe(true);
    expect(actual.has('/cairn/config/recommender/prod/foobar')).toBe(false);
    expect((await head()).changed).toEqual([
      'services/recommender/config/foo.yaml',
      'services/recommender/config/foo_bar.yaml',
      'services/recommender/config/foo_bar_renamed.yaml',
      'services/recommender/config/foobar/foo.yaml',
    ]);
  });

  it('turns a file into a folder and back', async () => {
    await f.work.git('rm', '-q', 'services/recommender/config/foo.yaml');
    await pushAndSync('File becomes folder', { 'services/recommender/config/foo.yaml/inner.yaml': 'x: 1\n' });
    await expectExact();
    expect((await f.actualInventory()).get('/cairn/config/recommender/prod/foo.yaml')).toEqual(
      new Uint8Array(0),
    );
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
    const { data } = await f.session.get(f.layout.configFile('search-api', 'prod', 'synonyms.bin'));
    expect(new Uint8Array(data)).toEqual(binary);
    expect((await f.session.get(f.layout.configFile('search-api', 'dev', 'EMPTY'))).data.length).toBe(0);
  });

  it('removes a deleted service and a deleted environment without a trace', async () => {
    const service = await f.work.git('show', 'HEAD:services/nightly-reports/service.yaml');
    const files = (await f.work.git('ls-files', 'services/nightly-reports')).split('\n');
    await pushAndSync('Retire nightly-reports', Object.fromEntries(files.map((path) => [path, null])));
    await expectExact();
    expect([...(await f.actualInventory()).keys()].filter((p) => p.includes('nightly-reports'))).toEqual([]);
    // Bring it back with all its files, then drop its dev environment only.
    const restored = Object.fromEntries(
      await Promise.all(
        files.map(async (path) => [path, `${await f.work.git('show', `HEAD~1:${path}`)}\n`] as const),
      ),
    );
    await pushAndSync('Restore nightly-reports', restored);
    await expectExact();
    expect((await f.actualInventory()).has('/cairn/config/nightly-reports/dev/reports.ini')).toBe(true);
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
    const actual = await f.actualInventory();
    expect([...actual.keys()].filter((p) => p.startsWith('/cairn/config/nightly-reports/dev'))).toEqual([]);
    expect(actual.has('/cairn/config/nightly-reports/prod/reports.ini')).toBe(true);
  });

  it('refuses a commit that fails validation, keeps the last good state, and mirrors the next good one', async () => {
    const before = await f.actualInventory();
    const goodHead = (await head()).commit;
    const { commit, outcome } = await pushAndSync('Break the recommender', {
      'services/recommender/config/application.yaml': 'server: [\n',
    });
    expect(outcome).toMatchObject({ kind: 'refused', error: { code: 'COMMIT_REFUSED', commit } });
    if (outcome.kind === 'refused')
      expect(outcome.error.message).toContain('services/recommender/config/application.yaml:2');
    expect(readable(await f.actualInventory())).toEqual(readable(before));
    expect((await head()).commit).toBe(goodHead);
    expect(mirror.refusedCommit?.commit).toBe(commit);
    // Polling again does not re-validate or write.
    expect((await mirror.sync()).kind).toBe('refused');

    const fix = await f.work.git('show', `${goodHead}:services/recommender/config/application.yaml`);
    const fixed = await pushAndSync('Fix the recommender', {
      'services/recommender/config/application.yaml': `${fix}\n`,
    });
    expect(fixed.outcome.kind).toBe('mirrored');
    expect(mirror.refusedCommit).toBeUndefined();
    await expectExact();
  });

  it('restores the previous state exactly when a commit is reverted', async () => {
    const before = await f.actualInventory();
    const { commit } = await pushAndSync('Tune prod', {
      'services/recommender/config/@prod/feature-flags.json': '{"everything": true}\n',
      'services/search-api/config/ranking.toml': 'title = "changed"\n',
      'services/edge-gateway/config/extra.conf': 'worker_connections 1;\n',
    });
    expect(readable(await f.actualInventory())).not.toEqual(readable(before));
    await f.work.git('revert', '--no-edit', commit);
    await f.work.push(f.repoUrl);
    expect((await mirror.sync()).kind).toBe('mirrored');
    expect(readable(await f.actualInventory())).toEqual(readable(before));
  });

  it('mirrors a force-pushed head and marks it', async () => {
    const previous = (await head()).commit;
    await f.work.git('reset', '--hard', 'HEAD~1');
    await f.work.write({ 'services/recommender/config/hotfix.yaml': 'hot: true\n' });
    await f.work.commit('Rewrite history');
    await f.work.push(f.repoUrl, 'HEAD:refs/heads/main', { force: true });
    const outcome = await mirror.sync();
    expect(outcome).toMatchObject({ kind: 'mirrored', forced: true, previous });
    expect((await head()).forced).toBe(true);
    await expectExact();
  });

  it('carries the approval record the bot attached as a git note into /head, even when it comes late', async () => {
    const notesRefspec = 'refs/notes/cairn-approvals:refs/notes/cairn-approvals';
    await f.work.write({ 'services/recommender/config/approved.yaml': 'a: 1\n' });
    await f.work.commit('Merge pull request #7');
    await f.work.git(
      'notes',
      '--ref',
      'cairn-approvals',
      'add',
      '-m',
      '{"pr":7,"rules":[{"rule":"owners","satisfied":true}]}',
      'HEAD',
    );
    await f.work.push(f.repoUrl);
    await f.work.push(f.repoUrl, notesRefspec);
    expect((await mirror.sync()).kind).toBe('mirrored');
    expect((await head()).approvals).toEqual({ pr: 7, rules: [{ rule: 'owners', satisfied: true }] });

    // The bot records a merge when GitHub reports it, possibly after the syncer mirrored the commit.
    const { commit } = await pushAndSync('Merge pull request #8', {
      'services/recommender/config/approved.yaml': 'a: 2\n',
    });
    expect((await head()).approvals).toBeUndefined();
    await f.work.git('notes', '--ref', 'cairn-approvals', 'add', '-m', '{"pr":8}', commit);
    await f.work.push(f.repoUrl, notesRefspec);
    expect(await mirror.sync()).toEqual({ kind: 'up-to-date', commit });
    expect(await head()).toMatchObject({ commit, approvals: { pr: 8 } });
  });

  it('resumes after a restart from what ZooKeeper holds, not from memory', async () => {
    // Someone edits ZooKeeper by hand; a new syncer process reconciles it back to git.
    await f.session.set(
      f.layout.configFile('recommender', 'dev', 'application.yaml'),
      Buffer.from('tampered'),
    );
    await f.session.create(f.layout.configFile('recommender', 'dev', 'stray.yaml'), Buffer.from('x'));
    const restarted = f.newMirror();
    expect((await restarted.sync()).kind).toBe('mirrored');
    await expectExact();
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
        const read = await readEnvironmentSnapshot(readerSession, f.layout, 'recommender', 'prod');
        if (!read.consistent || !read.snapshot) continue;
        const parts = [...read.snapshot.files].filter(([path]) => path.startsWith('big/'));
        // All 15 parts or none: a half-written commit is never taken for a snapshot.
        expect([0, 15]).toContain(parts.length);
        seen.add(`${read.snapshot.head.commit}:${parts.length}`);
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
    expect(seen.size).toBeGreaterThan(0);
  });

  it('lets a reader skip the files it already holds, by content id', async () => {
    const first = await readEnvironmentSnapshot(f.session, f.layout, 'search-api', 'dev');
    if (!first.consistent || !first.snapshot) throw new Error('expected a snapshot');
    // Remove a file behind the syncer's back: a reader that holds it does not read it again.
    await f.session.remove(f.layout.configFile('search-api', 'dev', 'ranking.toml'));
    expect((await readEnvironmentSnapshot(f.session, f.layout, 'search-api', 'dev')).consistent).toBe(false);
    const second = await readEnvironmentSnapshot(
      f.session,
      f.layout,
      'search-api',
      'dev',
      undefined,
      first.snapshot.files,
    );
    expect(second.consistent && second.snapshot?.files.get('ranking.toml')).toBe(
      first.snapshot.files.get('ranking.toml'),
    );
    // A held file whose bytes differ from what the index lists is read again, never served.
    const stale = new Map(first.snapshot.files).set('application.properties', Buffer.from('stale=1\n'));
    const third = await readEnvironmentSnapshot(f.session, f.layout, 'search-api', 'dev', undefined, stale);
    if (!third.consistent || !third.snapshot) throw new Error('expected a snapshot');
    expect(third.snapshot.files.get('application.properties')).toEqual(
      first.snapshot.files.get('application.properties'),
    );
    expect((await f.newMirror().sync()).kind).toBe('mirrored');
    await expectExact();
  });

  it('refuses a commit with a file over the size limit and keeps the last good state', async () => {
    const before = await f.actualInventory();
    const { outcome } = await pushAndSync('Add a huge file', {
      'services/recommender/config/huge.txt': 'y'.repeat(600_000),
    });
    expect(outcome.kind).toBe('refused');
    if (outcome.kind === 'refused') expect(outcome.error.diagnostics[0]?.rule).toBe('file/too-large');
    expect(readable(await f.actualInventory())).toEqual(readable(before));
    await pushAndSync('Remove the huge file', { 'services/recommender/config/huge.txt': null });
  });
});
