import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mirror } from '../syncer/mirror.js';
import { type SyncerFixture, startSyncerFixture } from '../test/support/syncer-fixture.js';
import { DashboardNotFoundError } from './errors.js';
import {
  readCommitChanges,
  readContent,
  readFileContent,
  readFileDiff,
  readFilePage,
  readHistoryPage,
  readOverview,
} from './read-model.js';

/** What the dashboard reads, against a real ZooKeeper the example repository was mirrored into. */
describe('the dashboard read model', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = f.newMirror();
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
  });
  afterAll(async () => {
    await f?.close();
  });

  it('shows the head, every service × environment with its owners, hosts and no deployment yet', async () => {
    const overview = await readOverview(f.session, f.layout);
    expect(overview.status.head?.commit).toBe(await f.work.head());
    const keys = overview.status.environments.map((e) => `${e.service}/${e.env}`);
    expect(keys).toContain('recommender/dev');
    expect(keys).toContain('search-api/prod');
    expect(overview.services.recommender?.owners.length).toBeGreaterThan(0);
    expect(overview.status.environments.find((e) => e.service === 'recommender')?.files).toBeGreaterThan(0);
    expect(overview.drift).toEqual({});
  });

  it('pages an environment’s files in path order, filtered, and gives one file’s bytes as text', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++)
      files[`services/recommender/config/rules/r${String(i).padStart(2, '0')}.yaml`] = `rule: ${i}\n`;
    files['services/recommender/config/rules/xss.yaml'] = 'banner: "<script>window.hacked = 1</script>"\n';
    await f.work.write(files);
    await f.work.commit('Add thirty rules and a banner');
    await f.work.push(f.repoUrl);
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');

    const all = await readFilePage(f.session, f.layout, 'recommender', 'dev', { offset: 0, limit: 1000 });
    expect(all.commit).toBe(await f.work.head());
    expect(all.files.map((file) => file.path)).toEqual([...all.files.map((file) => file.path)].sort());
    const page = await readFilePage(f.session, f.layout, 'recommender', 'dev', {
      offset: 10,
      limit: 5,
      filter: 'rules/r',
    });
    expect(page.total).toBe(30);
    expect(page.files.map((file) => file.path)).toEqual([
      'rules/r10.yaml',
      'rules/r11.yaml',
      'rules/r12.yaml',
      'rules/r13.yaml',
      'rules/r14.yaml',
    ]);
    const banner = await readFileContent(f.session, f.layout, 'recommender', 'dev', 'rules/xss.yaml');
    expect(banner.text).toBe('banner: "<script>window.hacked = 1</script>"\n');
    expect(banner.id).toBe(all.files.find((file) => file.path === 'rules/xss.yaml')?.id);

    // The commit's diff: in every environment of recommender, 31 files added, none elsewhere.
    const seq = (await readOverview(f.session, f.layout)).status.head?.seq as number;
    const changes = await readCommitChanges(f.session, f.layout, seq);
    expect(changes.commit).toBe(await f.work.head());
    expect(changes.environments.map((e) => `${e.service}/${e.env}`).sort()).toEqual([
      'recommender/dev',
      'recommender/prod',
      'recommender/staging',
    ]);
    const dev = changes.environments.find((e) => e.env === 'dev');
    expect(dev?.files).toHaveLength(31);
    expect(dev?.files.every((file) => file.change === 'added' && file.from === undefined)).toBe(true);
    const added = dev?.files.find((file) => file.path === 'rules/xss.yaml');
    expect((await readContent(f.session, f.layout, added?.to as string)).text).toBe(banner.text);
    await expect(readContent(f.session, f.layout, '../head')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('compares a modified file’s two versions line by line, text only', async () => {
    await f.work.write({
      'services/recommender/config/rules/r05.yaml': 'rule: 5\nweight: 2\n',
      'services/recommender/config/rules/blob.bin': new Uint8Array([0, 1, 2, 0]),
    });
    await f.work.commit('Weigh rule 5');
    await f.work.push(f.repoUrl);
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    const seq = (await readOverview(f.session, f.layout)).status.head?.seq as number;
    const dev = (await readCommitChanges(f.session, f.layout, seq)).environments.find(
      (e) => e.service === 'recommender' && e.env === 'dev',
    );
    const modified = dev?.files.find((file) => file.path === 'rules/r05.yaml');
    expect(modified).toMatchObject({ change: 'modified' });
    const diff = await readFileDiff(f.session, f.layout, modified?.from as string, modified?.to as string);
    expect(diff).toEqual({
      from: modified?.from,
      to: modified?.to,
      comparable: true,
      added: 1,
      removed: 0,
      hunks: [
        {
          oldStart: 1,
          oldLines: 1,
          newStart: 1,
          newLines: 2,
          lines: [
            { kind: 'context', text: 'rule: 5', old: 1, new: 1 },
            { kind: 'added', text: 'weight: 2', new: 2 },
          ],
        },
      ],
    });
    const binary = dev?.files.find((file) => file.path === 'rules/blob.bin');
    expect(await readFileDiff(f.session, f.layout, modified?.to as string, binary?.to as string)).toEqual({
      from: modified?.to,
      to: binary?.to,
      comparable: false,
      notText: true,
    });
    await expect(readFileDiff(f.session, f.layout, 'nope', modified?.to as string)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('says which service, environment or file does not exist', async () => {
    await expect(
      readFilePage(f.session, f.layout, 'no-such-service', 'dev', { offset: 0, limit: 10 }),
    ).rejects.toThrow(new DashboardNotFoundError('no environment dev of service no-such-service'));
    await expect(
      readFileContent(f.session, f.layout, 'recommender', 'dev', 'missing.yaml'),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: 'recommender dev has no file missing.yaml',
    });
  });

  it('shows a refused commit with its diagnostics, and history with the revert of each commit', async () => {
    const live = await f.work.head();
    await f.work.write({ 'services/recommender/config/application.yaml': 'server: [unclosed\n' });
    const broken = await f.work.commit('Break the recommender');
    await f.work.push(f.repoUrl);
    expect((await mirror.sync(f.target)).kind).toBe('refused');

    const overview = await readOverview(f.session, f.layout);
    expect(overview.status.head?.commit).toBe(live);
    expect(overview.status.refused?.commit).toBe(broken);
    expect(overview.status.refused?.diagnostics[0]?.file).toBe(
      'services/recommender/config/application.yaml',
    );

    const history = await readHistoryPage(f.session, f.layout, 10);
    expect(history[0]).toMatchObject({ commit: live, revert: `git revert --no-edit ${live}` });
    expect(history.map((h) => h.subject)).toContain('Import the Northwind configuration');
  });
});
