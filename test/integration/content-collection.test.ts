import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentId, encodePinRecord, readEnvironment } from '../../core/index.js';
import type { Mirror } from '../../syncer/mirror.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

const FILE = 'services/recommender/config/rules/season.yaml';
const text = (n: number) => `season: ${n}\n`;

describe('collection of content nobody needs', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  beforeAll(async () => {
    f = await startSyncerFixture();
    // Keep the snapshots of the last two commits only.
    const settings = join(f.work.dir, 'cairn.yaml');
    await writeFile(
      settings,
      (await readFile(settings, 'utf8')).replace(
        /historyRetention: \d+/,
        'historyRetention: 50\n  snapshotRetention: 2',
      ),
    );
    mirror = f.newMirror();
  });
  afterAll(async () => {
    await f?.close();
  });

  const exists = async (content: string) =>
    (await f.session.exists(f.layout.content(contentId(Buffer.from(content))))) !== undefined;
  const commitAndSync = async (n: number) => {
    await f.work.write({ [FILE]: text(n) });
    await f.work.commit(`Season ${n}`);
    await f.work.push(f.repoUrl);
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    return mirror.collect(f.target, true);
  };
  const manifestOf = async () => {
    const read = await readEnvironment(f.session, f.layout, 'recommender', 'dev');
    if (read.kind !== 'snapshot') throw new Error('expected a snapshot');
    return read.snapshot.pointer.manifest;
  };

  it('keeps what the last commits served and deletes what is older, unless a pin holds it', async () => {
    await commitAndSync(1);
    const firstManifest = await manifestOf();
    await f.session.create(
      f.layout.pin('rollout-recommender-dev'),
      encodePinRecord({
        owner: 'deployment recommender/dev/1',
        createdAt: new Date().toISOString(),
        snapshots: [firstManifest],
      }),
    );
    for (const n of [2, 3, 4]) await commitAndSync(n);
    // The last two commits changed season 2 → 3 → 4: what they served, before and after, stays.
    expect(await exists(text(4))).toBe(true);
    expect(await exists(text(3))).toBe(true);
    expect(await exists(text(2))).toBe(true);
    // Season 1 is older than that, but pinned.
    expect(await exists(text(1))).toBe(true);
    expect(await f.session.exists(f.layout.content(firstManifest))).toBeDefined();

    await f.session.remove(f.layout.pin('rollout-recommender-dev'));
    const result = await commitAndSync(5);
    expect(result?.removed).toBeGreaterThan(0);
    expect(await exists(text(1))).toBe(false);
    expect(await exists(text(2))).toBe(false);
    expect(await f.session.exists(f.layout.content(firstManifest))).toBeUndefined();
    // Every environment still reads whole.
    expect(await f.actualView()).toEqual(await f.expectedView());
  });

  it('keeps content staged after the last publication: a commit in flight needs it', async () => {
    const staged = Buffer.from('staged: true\n');
    await f.session.create(f.layout.content(contentId(staged)), staged);
    await mirror.collect(f.target, true);
    expect(await exists('staged: true\n')).toBe(true);
    // Once a commit is published without it, it is nobody's.
    await commitAndSync(6);
    expect(await exists('staged: true\n')).toBe(false);
  });

  it('writes again content a published snapshot needs that someone deleted by hand', async () => {
    const id = contentId(Buffer.from(text(6)));
    await f.session.remove(f.layout.content(id));
    const result = await mirror.collect(f.target, true);
    expect(result?.missing).toBe(1);
    await f.work.write({ 'services/search-api/config/ranking.toml': 'title = "unrelated"\n' });
    await f.work.commit('An unrelated change');
    await f.work.push(f.repoUrl);
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    expect(await f.session.exists(f.layout.content(id))).toBeDefined();
    expect(await f.actualView()).toEqual(await f.expectedView());
  });
});
