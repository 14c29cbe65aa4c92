import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeHeadRecord, decodeRefusalRecord } from '../../core/index.js';
import { runCairn } from '../support/cairn-process.js';
import { commitHostileEntry } from '../support/hostile-commit.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

/**
 * Commits pushed straight to the branch, as an attacker would: each is refused at the file that is
 * wrong (never a crash retried forever), the last good state stays live, and the next good commit
 * mirrors. `cairn sync` runs in a process of its own: validating a large hostile file holds its event
 * loop for seconds on a loaded machine, which must not starve this process's session.
 */
describe('hostile commits on the mirrored branch', () => {
  let f: SyncerFixture;
  beforeAll(async () => {
    f = await startSyncerFixture();
    const first = await runCairn(f.syncOnceArgs(), { CAIRN_LOG_FORMAT: 'json' });
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(async () => {
    await f?.close();
  });

  const config = 'services/recommender/config';
  /** Each case commits its hostile change and says which file the refusal must name, and why. */
  const cases: { title: string; commit: () => Promise<string>; file: string; rule: string }[] = [
    {
      title: 'a tree entry config/../evil.yaml',
      commit: () => commitHostileEntry(f.work, config, '..', { folder: { 'evil.yaml': 'a: 1\n' } }, 'Escape'),
      file: `${config}/..`,
      rule: 'path/unsafe',
    },
    {
      title: 'a file named ..',
      commit: () => commitHostileEntry(f.work, config, '..', 'a: 1\n', 'Dot dot'),
      file: `${config}/..`,
      rule: 'path/unsafe',
    },
    {
      title: 'a file name with a backslash',
      commit: () => commitHostileEntry(f.work, config, 'win\\path.yaml', 'a: 1\n', 'Backslash'),
      file: `${config}/win\\path.yaml`,
      rule: 'path/unsafe',
    },
    {
      title: 'a file name that is not UTF-8',
      commit: () =>
        commitHostileEntry(
          f.work,
          config,
          Buffer.from([0x66, 0xff, 0x2e, 0x79, 0x6d, 0x6c]),
          'a: 1\n',
          'Latin-1',
        ),
      file: `${config}/f\ufffd.yml`,
      rule: 'path/unsafe',
    },
    {
      title: 'a file name that retitles the terminal and clears the screen',
      commit: () =>
        commitHostileEntry(f.work, config, 'x\u001b]0;PWNED\u0007\u001b[2Jy.yaml', 'a: 1\n', 'Escape'),
      file: `${config}/x\u001b]0;PWNED\u0007\u001b[2Jy.yaml`,
      rule: 'path/unsafe',
    },
    {
      title: 'a JSON file of 10,000 unclosed [',
      commit: () => writeAndCommit(`${config}/deep.json`, '['.repeat(10_000)),
      file: `${config}/deep.json`,
      rule: 'json/too-deep',
    },
    {
      title: 'a YAML file of 125,000 duplicate keys',
      commit: () => writeAndCommit(`${config}/dup.yaml`, 'a:\n'.repeat(125_000)),
      file: `${config}/dup.yaml`,
      rule: 'yaml/duplicate-key',
    },
    {
      title: 'folders nested deeper than --max-path-depth',
      commit: () => writeAndCommit(`${config}/${'d/'.repeat(70)}deep.yaml`, 'a: 1\n'),
      file: `${config}/d/d/d/d/d/… (64+ levels)`,
      rule: 'tree/too-deep',
    },
    {
      title: 'a 5 MB YAML file',
      commit: () => writeAndCommit(`${config}/big.yaml`, 'key: value\n'.repeat(500_000)),
      file: `${config}/big.yaml`,
      rule: 'file/too-large',
    },
  ];
  const written: string[] = [];
  const writeAndCommit = async (path: string, content: string) => {
    written.push(path);
    await f.work.write({ [path]: content });
    return f.work.commit(`Add ${path}`);
  };

  for (const { title, commit, file, rule } of cases) {
    it(`refuses ${title} at the file, keeps the last good state, and mirrors the next good commit`, async () => {
      const before = await f.actualView();
      const goodHead = decodeHeadRecord((await f.session.get(f.layout.head())).data).commit;
      const hostile = await commit();
      await f.work.push(f.repoUrl);

      const refused = await runCairn(f.syncOnceArgs(), { CAIRN_LOG_FORMAT: 'json' });
      expect(refused.code, refused.stderr).toBe(1);
      await f.renewSession();
      expect(refused.stderr).toContain(`cairn: commit ${hostile.slice(0, 12)} is not mirrored`);
      expect(refused.stderr).not.toContain('unexpected');
      // What the repository named reaches the terminal escaped: no control character but line breaks.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      expect(refused.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      const logged = refused.stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { code?: string; stack?: unknown });
      expect(logged.filter((record) => record.code === 'COMMIT_REFUSED')).toHaveLength(1);
      const record = decodeRefusalRecord((await f.session.get(f.layout.refused())).data);
      expect(record.commit).toBe(hostile);
      expect(record.diagnostics).toContainEqual(expect.objectContaining({ file, rule }));
      expect(record.diagnostics.length).toBeLessThanOrEqual(60);
      expect(await f.actualView()).toEqual(before);
      expect(decodeHeadRecord((await f.session.get(f.layout.head())).data).commit).toBe(goodHead);

      // The next good commit (the work tree never held the hostile entries) mirrors and clears /refused.
      await f.work.write(Object.fromEntries(written.splice(0).map((path) => [path, null])));
      const good = await f.work.commit(`Undo: ${title}`);
      await f.work.push(f.repoUrl);
      await f.renewSession();
      expect(await f.newMirror().sync(f.target)).toMatchObject({ kind: 'mirrored', commit: good });
      expect(await f.session.exists(f.layout.refused())).toBeUndefined();
    }, 300_000);
  }

  /** Runs `cairn sync --once`, expecting the branch head refused with findings of `rule`. */
  const expectRefused = async (commit: string, rule: string) => {
    const refused = await runCairn(f.syncOnceArgs(), { CAIRN_LOG_FORMAT: 'json' });
    expect(refused.code, refused.stderr).toBe(1);
    await f.renewSession();
    expect(refused.stderr).toContain(`cairn: commit ${commit.slice(0, 12)} is not mirrored`);
    expect(refused.stderr).toContain(rule);
    const record = decodeRefusalRecord((await f.session.get(f.layout.refused())).data);
    expect(record.commit).toBe(commit);
    expect(record.diagnostics.length).toBeGreaterThan(0);
    for (const d of record.diagnostics)
      expect(d).toMatchObject({ file: 'cairn.yaml', rule, severity: 'error' });
    return record;
  };

  // Last: it leaves the mirror empty.
  it('refuses commits that remove most files or every service, force-pushed or not, until cairn.yaml allows it', async () => {
    const before = await f.actualView();
    const goodHead = decodeHeadRecord((await f.session.get(f.layout.head())).data).commit;
    const tracked = (await f.work.git('ls-files', 'services')).split('\n');

    // Every config file but the recommender's gone, the services kept: more than half the mirrored files.
    const configs = tracked.filter((path) => /^services\/[^/]+\/config\//.test(path));
    await f.work.write(
      Object.fromEntries(configs.filter((p) => !p.startsWith('services/recommender/')).map((p) => [p, null])),
    );
    const thinned = await f.work.commit('Drop most configuration');
    await f.work.push(f.repoUrl);
    // In this process (a second `cairn sync` would only add seconds): the same refusal, recorded.
    const outcome = await f.newMirror().sync(f.target);
    expect(outcome.kind).toBe('refused');
    const share = decodeRefusalRecord((await f.session.get(f.layout.refused())).data);
    expect(share).toMatchObject({
      commit: thinned,
      diagnostics: [expect.objectContaining({ file: 'cairn.yaml', rule: 'guard/removed-share' })],
    });
    expect(share.diagnostics[0]?.message).toMatch(/removes \d+ of the \d+ mirrored files/);
    expect(await f.actualView()).toEqual(before);

    // The wrong branch force-pushed: a commit of no parent holding no service at all.
    await f.work.write(Object.fromEntries(tracked.map((path) => [path, null])));
    await f.work.git('add', '--all');
    const tree = await f.work.git('write-tree');
    const wrong = await f.work.git('commit-tree', tree, '-m', 'Wrong branch');
    await f.work.git('reset', '--quiet', '--hard', wrong);
    await f.work.push(f.repoUrl, 'HEAD:refs/heads/main', { force: true });
    const empty = await expectRefused(wrong, 'guard/empty-environment');
    expect(empty.diagnostics.map((d) => d.message.match(/environment "(\w+)"/)?.[1]).sort()).toEqual([
      'dev',
      'prod',
      'staging',
    ]);
    expect(await f.actualView()).toEqual(before);
    expect(decodeHeadRecord((await f.session.get(f.layout.head())).data).commit).toBe(goodHead);

    // Meant after all: the next commit allows it, and the mirror empties.
    const settings = await f.work.git('show', 'HEAD:cairn.yaml');
    await f.work.write({ 'cairn.yaml': settings.replace('allowEmpty: false', 'allowEmpty: true') });
    const allowed = await f.work.commit('Retire every service on purpose');
    await f.work.push(f.repoUrl);
    expect(await f.newMirror().sync(f.target)).toMatchObject({ kind: 'mirrored', commit: allowed });
    expect(await f.session.exists(f.layout.refused())).toBeUndefined();
    expect(await f.session.childrenIfExists(f.layout.configDir())).toEqual([]);
  }, 300_000);
});
