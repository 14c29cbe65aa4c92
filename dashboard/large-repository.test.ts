import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SyncerFixture, startSyncerFixture } from '../test/support/syncer-fixture.js';
import { readFileContent, readFilePage, readOverview } from './read-model.js';

const FILES = 10_000;

/** A 10,000-file environment costs the page one page of paths, and each file only when opened. */
describe('the dashboard on a 10,000-file environment', () => {
  let f: SyncerFixture;
  beforeAll(async () => {
    f = await startSyncerFixture();
    await f.work.write(
      Object.fromEntries(
        Array.from({ length: FILES }, (_, i) => [
          `services/search-api/config/synonyms/${String(i).padStart(5, '0')}.txt`,
          `synonym ${i}\n`,
        ]),
      ),
    );
    await f.work.commit('Ten thousand synonym files');
    await f.work.push(f.repoUrl);
    expect((await f.newMirror().sync(f.target)).kind).toBe('mirrored');
  }, 300_000);
  afterAll(async () => {
    await f?.close();
  });

  it('keeps the overview small: it counts files, it does not list them', async () => {
    const overview = await readOverview(f.session, f.layout);
    const env = overview.status.environments.find((e) => e.service === 'search-api' && e.env === 'dev');
    expect(env?.files).toBeGreaterThanOrEqual(FILES);
    expect(JSON.stringify(overview).length).toBeLessThan(100_000);
  });

  it('pages the paths, at most 500 at a time, and filters them', async () => {
    const page = await readFilePage(f.session, f.layout, 'search-api', 'dev', {
      offset: 9_900,
      limit: 10_000,
    });
    expect(page.total).toBeGreaterThanOrEqual(FILES);
    expect(page.files).toHaveLength(Math.min(500, page.total - 9_900));
    const one = await readFilePage(f.session, f.layout, 'search-api', 'dev', {
      offset: 0,
      limit: 200,
      filter: 'synonyms/09999',
    });
    expect(one).toMatchObject({ total: 1, files: [{ path: 'synonyms/09999.txt' }] });
    expect((await readFileContent(f.session, f.layout, 'search-api', 'dev', 'synonyms/09999.txt')).text).toBe(
      'synonym 9999\n',
    );
  });
});
