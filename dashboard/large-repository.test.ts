import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ZkSession } from '../core/index.js';
import { type SyncerFixture, startSyncerFixture } from '../test/support/syncer-fixture.js';
import { OverviewCache } from './overview-cache.js';
import { readFileContent, readFilePage, readOverview } from './read-model.js';

/** The session itself, counting the requests made through it. */
function countingSession(session: ZkSession): { session: ZkSession; requests: () => number } {
  let requests = 0;
  const counted = new Proxy(session, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        requests += 1;
        return value.apply(target, args);
      };
    },
  });
  return { session: counted, requests: () => requests };
}

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

  it('reads the overview once for many tabs, and again only when something under the root changed', async () => {
    const { session, requests } = countingSession(f.session);
    let invalidations = 0;
    const cache = new OverviewCache(() => true);
    const invalidate = () => {
      invalidations += 1;
      cache.invalidate();
    };

    let started = performance.now();
    const first = await cache.get(session, f.layout);
    const firstMs = performance.now() - started;
    const firstRequests = requests();
    expect(firstRequests).toBeGreaterThan(10);

    // Twenty tabs told of the same change ask together, then once more: only /head's version is read.
    started = performance.now();
    const tabs = await Promise.all(Array.from({ length: 20 }, () => cache.get(session, f.layout)));
    const again = await cache.get(session, f.layout);
    const cachedMs = performance.now() - started;
    expect(requests() - firstRequests).toBe(21);
    for (const overview of [...tabs, again]) expect(overview).toBe(first);
    console.log(
      `overview of a ${FILES}-file repository: read in ${firstMs.toFixed(0)} ms (${firstRequests} requests); 21 more asks in ${cachedMs.toFixed(1)} ms (1 request each)`,
    );

    // A change without a new commit (an agent reporting, say): read again, once for concurrent asks.
    invalidate();
    const before = requests();
    const [fresh, same] = await Promise.all([cache.get(session, f.layout), cache.get(session, f.layout)]);
    expect(fresh).toBe(same);
    expect(fresh).not.toBe(first);
    expect(requests() - before).toBe(firstRequests + 1);
    expect(invalidations).toBe(1);

    // A new commit moves /head: read again even before the watch says so.
    await f.work.write({ 'services/search-api/config/synonyms/new.txt': 'synonym new\n' });
    await f.work.commit('One more synonym');
    await f.work.push(f.repoUrl);
    expect((await f.newMirror().sync(f.target)).kind).toBe('mirrored');
    const afterCommit = await cache.get(session, f.layout);
    expect(afterCommit.status.head?.commit).toBe(await f.work.head());
    expect(afterCommit.status.head?.commit).not.toBe(fresh.status.head?.commit);
  }, 120_000);

  it('reads every time while changes cannot be seen (no watch set on the session yet)', async () => {
    const { session, requests } = countingSession(f.session);
    const cache = new OverviewCache(() => false);
    await cache.get(session, f.layout);
    const one = requests();
    await cache.get(session, f.layout);
    expect(requests()).toBe(2 * one);
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
