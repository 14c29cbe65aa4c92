import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVAL_RECORD_FORMAT, decodeRefusalRecord, serializeApprovalRecord } from '../../core/index.js';
import type { Mirror } from '../../syncer/mirror.js';
import { runCliCaptured } from '../support/run-cli.js';
import { NOTES_REFSPEC, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

/** What operators read: refused commits in status, the served tag in get, and the history. */
describe('cairn status, get and history tell the truth', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  let first: string;
  let second: string;
  let refused: string;
  let fixed: string;
  beforeAll(async () => {
    f = await startSyncerFixture({ tagTracking: true });
    mirror = f.newMirror();
    first = await f.work.head();
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
  });
  afterAll(async () => {
    await f?.close();
  });

  const cairn = (...args: string[]) => runCliCaptured([...args, '--zk', f.zk.connectString]);

  it('get prints the tagged commit an environment that follows tags serves, not the branch head', async () => {
    await f.work.git('tag', 'v1.0.0', first);
    await f.work.write({ 'services/recommender/config/rules/later.yaml': 'later: true\n' });
    await f.work.git('add', '-A');
    const merged = await f.work.commit('Merge pull request #7 from northwind/later');
    await f.work.git(
      'notes',
      '--ref',
      'cairn-approvals',
      'add',
      '-m',
      serializeApprovalRecord({
        format: APPROVAL_RECORD_FORMAT,
        repository: 'northwind/config',
        pr: 7,
        mergeCommit: merged,
        headSha: merged,
        baseRef: 'main',
        policyCommit: merged,
        mergedBy: 'priya-raman',
        satisfied: true,
        rules: [
          {
            rule: 'owners',
            satisfied: true,
            satisfiedBy: [{ login: 'tomas-novak', approvedSha: merged, submittedAt: '2026-11-23T10:00:00Z' }],
          },
        ],
        recordedAt: '2026-11-23T10:01:00.000Z',
      }),
      merged,
    );
    second = merged;
    await f.work.push(f.repoUrl);
    await f.work.push(f.repoUrl, 'refs/tags/*:refs/tags/*');
    await f.work.push(f.repoUrl, NOTES_REFSPEC);
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');

    const prod = await cairn('get', 'recommender', 'prod');
    expect(prod.code, prod.stderr).toBe(0);
    expect(prod.stdout.split('\n')[0]).toBe(`# recommender/prod at ${first} (v1.0.0)`);
    expect(prod.stdout).not.toContain('rules/later.yaml');
    const dev = await cairn('get', 'recommender', 'dev');
    expect(dev.stdout.split('\n')[0]).toBe(`# recommender/dev at ${second}`);
    expect(dev.stdout).toMatch(/^[0-9a-f]{40} +\d+ {2}rules\/later\.yaml$/m);

    const json = JSON.parse((await cairn('get', 'recommender', 'prod', '--format', 'json')).stdout);
    expect(json).toMatchObject({
      service: 'recommender',
      env: 'prod',
      serves: { commit: first, tag: 'v1.0.0' },
    });
    expect(json.files.map((file: { path: string }) => file.path)).toContain('application.yaml');
  });

  it('status shows a refused commit with its diagnostics and exits 1, until a commit fixes it', async () => {
    await f.work.write({ 'services/recommender/config/application.yaml': 'server: [unclosed\n' });
    refused = await f.work.commit('Break the recommender');
    await f.work.push(f.repoUrl);
    expect((await mirror.sync(f.target)).kind).toBe('refused');

    const record = decodeRefusalRecord((await f.session.get(f.layout.refused())).data);
    expect(record).toMatchObject({ commit: refused, branchHead: refused });
    expect(record.errorCount).toBeGreaterThan(0);

    const status = await cairn('status');
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(
      new RegExp(
        `^refused  ${refused.slice(0, 12)}  at \\S+: \\d+ error\\(s\\), not served: ${second.slice(0, 12)} stays live until a commit fixes it`,
        'm',
      ),
    );
    expect(status.stdout).toMatch(/^ {9}services\/recommender\/config\/application\.yaml:\d+:\d+ \S+: /m);
    expect(status.stdout).toContain("the branch's newest commit was refused");
    const json = JSON.parse((await cairn('status', '--format', 'json')).stdout);
    expect(json.refused).toMatchObject({ commit: refused });
    expect(json.head.commit).toBe(second);

    await f.work.git('revert', '--no-edit', refused);
    fixed = await f.work.head();
    await f.work.push(f.repoUrl);
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    expect(await f.session.exists(f.layout.refused())).toBeUndefined();
    const after = await cairn('status');
    expect(after.stdout).not.toContain('refused');
  });

  it('history lists the mirrored commits, newest first, who approved each and the git revert', async () => {
    const run = await cairn('history');
    expect(run.code, run.stderr).toBe(0);
    const blocks = run.stdout.trim().split('\n\n');
    expect(blocks.map((block) => block.split('\n')[0]?.split('  ')[1])).toEqual([
      fixed.slice(0, 12),
      second.slice(0, 12),
      first.slice(0, 12),
    ]);
    expect(blocks[1]).toContain(
      'approved  pull request #7 by tomas-novak, merged by priya-raman; policy met',
    );
    expect(blocks[1]).toContain(`revert    git revert --no-edit ${second}`);
    expect(blocks[2]).toContain('approved  no approval record');

    const json = JSON.parse((await cairn('history', '--format', 'json', '--limit', '2')).stdout);
    expect(json.map((entry: { commit: string }) => entry.commit)).toEqual([fixed, second]);
    expect(json[1]).toMatchObject({
      approvals: { kind: 'recorded', pr: 7, approvedBy: ['tomas-novak'] },
      revert: `git revert --no-edit ${second}`,
    });
  });

  it('status, get and history under a root where nothing is mirrored say so, with exit 1', async () => {
    const status = await cairn('status', '--root', '/nope');
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(
      'nothing mirrored under /nope: is the syncer running, and is --root right?',
    );
    expect(status.stdout).not.toContain('every instance serves');
    const get = await cairn('get', 'recommender', 'dev', '--root', '/nope');
    expect(get).toMatchObject({ code: 1 });
    expect(get.stderr).toContain('nothing is mirrored under /nope');
    const history = await cairn('history', '--root', '/nope');
    expect(history).toMatchObject({ code: 1 });
    expect(history.stderr).toContain('nothing is mirrored under /nope');
  });

  it('get names the release an environment serves, also one that left the service’s files alone', async () => {
    // A hotfix release made beside main, changing another service only.
    await f.work.git('switch', '-c', 'hotfix', first);
    await f.work.write({ 'services/search-api/config/ranking.toml': '[boost]\nfreshness = 0.5\n' });
    const release = await f.work.commit('Tune search ranking');
    await f.work.git('tag', 'v1.0.1', release);
    await f.work.git('switch', 'main');
    await f.work.push(f.repoUrl, 'refs/tags/*:refs/tags/*');
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    const later = (await cairn('get', 'recommender', 'prod')).stdout.split('\n');
    expect(later.slice(0, 2)).toEqual([
      `# recommender/prod at ${release} (v1.0.1)`,
      `# files as last changed by ${first} (v1.0.0)`,
    ]);
    expect(JSON.parse((await cairn('get', 'recommender', 'prod', '--format', 'json')).stdout)).toMatchObject({
      serves: { commit: release, tag: 'v1.0.1' },
      filesChangedBy: { commit: first, tag: 'v1.0.0' },
    });
  });
});
