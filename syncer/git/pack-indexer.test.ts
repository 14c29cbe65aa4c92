import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, removeTempDir } from '../../local/index.js';
import { isolatedGitEnv } from '../../test/harness/git-command.js';
import { createWorkRepo, type WorkRepo } from '../../test/harness/index.js';
import { PackFormatError } from './pack-format.js';
import { indexPack } from './pack-indexer.js';

/** The pack `git pack-objects` makes of `revisions` in `repo`, and the index it writes beside it. */
function packWithGit(
  repo: WorkRepo,
  scratch: string,
  revisions: string,
  options: string[],
): { pack: Buffer; index: Buffer; deltas: number } {
  const base = `${scratch}/pack`;
  const id = execFileSync(
    'git',
    ['-C', repo.dir, 'pack-objects', '--revs', '-q', '--depth=50', '--window=50', ...options, base],
    { env: isolatedGitEnv(), input: revisions, encoding: 'utf8' },
  ).trim();
  // git's own check lists each delta with its depth and base: "<id> <type> <size> <packed> <offset> <depth> <base>".
  const listing = execFileSync('git', ['verify-pack', '-v', `${base}-${id}.idx`], { encoding: 'utf8' });
  const deltas = listing.split('\n').filter((line) => / \d+ [0-9a-f]{40}$/.test(line)).length;
  return { pack: readFileSync(`${base}-${id}.pack`), index: readFileSync(`${base}-${id}.idx`), deltas };
}

describe('indexPack', () => {
  let repo: WorkRepo;
  let scratch: string;
  const commits: string[] = [];

  beforeAll(async () => {
    scratch = await createTempDir('cairn-pack-indexer-');
    repo = await createWorkRepo();
    const lines = Array.from({ length: 200 }, (_, n) => `key${n}: ${'v'.repeat(n % 23)}`);
    for (let n = 0; n < 8; n++) {
      lines[n * 11] = `edited: ${n}`;
      await repo.write({
        'services/api/config/app.yaml': `${lines.join('\n')}\n`,
        [`services/s${n}/config/a.yaml`]: `n: ${n}\n`,
        'services/big/config/blob.bin': Buffer.alloc(70_000 + n, n),
      });
      commits.push(await repo.commit(`Edit ${n}`));
    }
  });
  afterAll(async () => {
    await removeTempDir(scratch);
  });

  for (const [kind, options] of [
    ['deltas by offset', ['--delta-base-offset']],
    ['deltas by base id', []],
  ] as const) {
    it(`writes the very index git writes, for a pack with ${kind}`, () => {
      const { pack, index, deltas } = packWithGit(repo, scratch, `${commits.at(-1)}\n`, [...options]);
      expect(deltas).toBeGreaterThan(5);
      expect(indexPack(pack).equals(index)).toBe(true);
    });
  }

  it('writes the index of a commit’s pack, as a fetch brings it', () => {
    const { pack, index } = packWithGit(repo, scratch, `${commits.at(-1)}\n^${commits.at(-2)}\n`, [
      '--delta-base-offset',
    ]);
    expect(indexPack(pack).equals(index)).toBe(true);
  });

  it('refuses a thin pack, a pack cut short, a damaged entry, and what is no pack', () => {
    // git writes a thin pack only to its output, as it sends one to a client that asked for it.
    const thin = execFileSync(
      'git',
      ['-C', repo.dir, 'pack-objects', '--revs', '-q', '--thin', '--delta-base-offset', '--stdout'],
      { env: isolatedGitEnv(), input: `${commits.at(-1)}\n^${commits.at(-2)}\n` },
    );
    expect(() => indexPack(thin)).toThrow(/bases are not in it/);
    const { pack } = packWithGit(repo, scratch, `${commits[0]}\n`, []);
    expect(() => indexPack(Buffer.concat([pack.subarray(0, pack.length / 2), pack.subarray(-20)]))).toThrow();
    const damaged = Buffer.from(pack);
    damaged.fill(0xff, 40, 60);
    expect(() => indexPack(damaged)).toThrow();
    const extra = Buffer.concat([pack.subarray(0, -20), Buffer.from('junk'), pack.subarray(-20)]);
    expect(() => indexPack(extra)).toThrow(/bytes after its/);
    expect(() => indexPack(Buffer.alloc(40))).toThrow(PackFormatError);
  });

  it('stops inflating an entry at the size it declares: a small pack cannot inflate to gigabytes', () => {
    // One blob that says it holds 10 bytes, and whose data inflates to a megabyte.
    const body = Buffer.concat([
      Buffer.from('PACK'),
      Buffer.from([0, 0, 0, 2, 0, 0, 0, 1]),
      Buffer.from([(3 << 4) | 10]),
      deflateSync(Buffer.alloc(1024 * 1024)),
    ]);
    const pack = Buffer.concat([body, createHash('sha1').update(body).digest()]);
    expect(() => indexPack(pack)).toThrow(/inflates to more than the 10 bytes it declares/);
  });
});
