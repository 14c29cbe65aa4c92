import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBareRepo,
  createWorkRepo,
  type GitServer,
  startGitServer,
  type WorkRepo,
} from '../../test/harness/index.js';
import { openGitSource, RepackError } from './index.js';

const ID = 'c2c895795d7d94d95ee0feee3265cf7fa84b2d84';

describe('the clone on disk', () => {
  let server: GitServer;
  const tempDirs: string[] = [];

  beforeAll(async () => {
    server = await startGitServer();
  });
  afterAll(async () => {
    await server?.close();
    await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function repository(name: string): Promise<{ url: string; author: WorkRepo; cacheDir: string }> {
    const url = await createBareRepo(server, name);
    const author = await createWorkRepo();
    await author.write({ 'cairn.yaml': 'environments: {}\n' });
    await author.commit('Initial configuration');
    await author.push(url);
    const cacheDir = await mkdtemp(join(tmpdir(), 'cairn-git-cache-'));
    tempDirs.push(cacheDir);
    return { url, author, cacheDir };
  }

  const packs = async (gitdir: string) =>
    (await readdir(join(gitdir, 'objects', 'pack'))).filter((name) => name.endsWith('.idx'));

  it('removes, before its first transfer, the temporary pack files given-up transfers and repacks left, and nothing else', async () => {
    const { url, cacheDir } = await repository('swept');
    const first = openGitSource({ url, branch: 'main', cacheDir });
    await first.fetchHead();
    first.close();
    const folder = join(cacheDir, 'objects', 'pack');
    const [kept] = await packs(cacheDir);
    const abandoned = [
      'tmp_pack_a1B2c3', // git index-pack's, its input ended early
      'tmp_idx_Zz09Aa',
      '.tmp-4242-pack-0123456789abcdef0123456789abcdef01234567.pack', // a killed git repack's
      'tmp_pack-cairn-0123456789abcdef.pack', // ours, the process killed mid-transfer
      'tmp_pack-cairn-0123456789abcdef.idx-new',
      `pack-${ID}.pack`, // a pack whose index was never written
    ];
    const others = [
      'tmp_pack_a1B2', // not mkstemp's six characters
      'tmp_pack-cairn-0123456789abcdef.pack.bak',
      'pack-notes.txt',
      'multi-pack-index',
    ];
    for (const name of [...abandoned, ...others]) await writeFile(join(folder, name), 'partial');
    await mkdir(join(folder, 'tmp_pack_dirdir'));

    const reopened = openGitSource({ url, branch: 'main', cacheDir });
    // Reads of the clone do not wait for the sweep; the first fetch does.
    expect(await reopened.cachedHead()).toBeDefined();
    expect(await reopened.fetchHead()).toBeDefined();
    expect((await readdir(folder)).sort()).toEqual(
      [kept as string, (kept as string).replace(/\.idx$/, '.pack'), ...others, 'tmp_pack_dirdir'].sort(),
    );
    reopened.close();
  });

  it('repacks a clone of more packs than its limit into one, between reads, and reads it on', async () => {
    const { url, author, cacheDir } = await repository('repacked');
    const source = openGitSource({ url, branch: 'main', cacheDir, packLimit: 3 });
    let head = await source.fetchHead();
    const before = await source.readTree(head);
    for (let n = 1; n <= 4; n++) {
      await author.write({ [`services/s/config/f${n}.yaml`]: `n: ${n}\n` });
      await author.commit(`Commit ${n}`);
      await author.push(url);
      head = await source.fetchHead();
      // Below the limit, nothing is done.
      if (n < 3) expect(await source.compactPacks()).toBeUndefined();
    }
    expect(await packs(cacheDir)).toHaveLength(5);
    // A read under way when the repack is asked for ends before git starts, on the packs it began with.
    const reading = source.readTree(head, before.snapshot);
    const compaction = await source.compactPacks();
    expect(compaction).toMatchObject({ packsBefore: 5, packsAfter: 1 });
    expect((await reading).changed.size).toBe(4);
    expect(await packs(cacheDir)).toHaveLength(1);

    // Reads after it find every object in the one pack, through a cache that no longer names the others.
    const whole = await source.readTree(head);
    expect(new TextDecoder().decode(whole.snapshot.tree.get('services/s/config/f4.yaml'))).toBe('n: 4\n');
    expect((await source.readTree(head, before.snapshot)).changed.size).toBe(4);
    expect(await source.isAncestor(before.snapshot.commit, head)).toBe(true);
    await author.write({ 'services/s/config/f5.yaml': 'n: 5\n' });
    const next = await author.commit('Commit 5');
    await author.push(url);
    expect(await source.fetchHead()).toBe(next);
    expect((await source.commitInfo(next)).message).toContain('Commit 5');
    source.close();
  });

  it('rejects with REPACK_FAILED when git fails, and the clone keeps its packs and reads on', async () => {
    const { url, author, cacheDir } = await repository('unrepackable');
    const source = openGitSource({ url, branch: 'main', cacheDir, packLimit: 1 });
    await source.fetchHead();
    await author.write({ 'services/s/config/f.yaml': 'n: 1\n' });
    await author.commit('Another pack');
    await author.push(url);
    const head = await source.fetchHead();
    // A setting git repack cannot parse: it exits non-zero before writing anything.
    execFileSync('git', ['--git-dir', cacheDir, 'config', 'repack.writeBitmaps', 'not-a-boolean']);
    const failure = await source.compactPacks().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RepackError);
    expect(failure).toMatchObject({ code: 'REPACK_FAILED' });
    expect(await packs(cacheDir)).toHaveLength(2);
    const { snapshot } = await source.readTree(head);
    expect(new TextDecoder().decode(snapshot.tree.get('services/s/config/f.yaml'))).toBe('n: 1\n');
    source.close();
  });
});
