import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTempDir, removeTempDir } from '../../local/index.js';
import { isolatedGitEnv } from '../../test/harness/git-command.js';
import { createWorkRepo, type WorkRepo } from '../../test/harness/index.js';
import { turnsDuring } from '../../test/support/event-loop-turns.js';
import { packAllObjects } from '../../test/support/pack-objects.js';
import { LARGE_ENTRY_BYTES, ResolvedEntries, readObject } from './object-reader.js';
import type { ObjectStore } from './object-store.js';
import { inflateEntry, inflateEntryAsync, PackFormatError, readEntryHeader } from './pack-format.js';
import { storeFiles } from './store-files.js';

/** Every object of the repository at `gitdir` as git itself reads it, by id. */
function objectsByGit(gitdir: string): Map<string, { type: string; bytes: Buffer }> {
  const out = execFileSync('git', ['--git-dir', gitdir, 'cat-file', '--batch-all-objects', '--batch'], {
    env: isolatedGitEnv(),
    maxBuffer: 256 * 1024 * 1024,
  });
  const objects = new Map<string, { type: string; bytes: Buffer }>();
  for (let at = 0; at < out.length; ) {
    const newline = out.indexOf(0x0a, at);
    const [oid, type, size] = out.toString('latin1', at, newline).split(' ') as [string, string, string];
    const start = newline + 1;
    objects.set(oid, { type, bytes: out.subarray(start, start + Number(size)) });
    at = start + Number(size) + 1;
  }
  return objects;
}

const git = (gitdir: string, ...args: string[]): string =>
  execFileSync('git', ['--git-dir', gitdir, ...args], { env: isolatedGitEnv(), encoding: 'utf8' });

const initBare = (gitdir: string): void => {
  execFileSync('git', ['init', '--quiet', '--bare', gitdir], { env: isolatedGitEnv() });
};

const storeOf = (gitdir: string): ObjectStore => ({ fs, gitdir, cache: {}, display: gitdir });

/** The entries of every pack of `gitdir` that are deltas, as git's own check of the packs counts them. */
function deltaCount(gitdir: string): number {
  const packs = fs.readdirSync(join(gitdir, 'objects', 'pack')).filter((name) => name.endsWith('.idx'));
  let deltas = 0;
  for (const pack of packs) {
    const listing = git(gitdir, 'verify-pack', '-v', join(gitdir, 'objects', 'pack', pack));
    // A delta's line names its depth and base: "<oid> <type> <size> <packed> <offset> <depth> <base>".
    deltas += listing
      .split('\n')
      .filter((line) => /^[0-9a-f]{40} \w+ +\d+ \d+ \d+ \d+ [0-9a-f]{40}$/.test(line)).length;
  }
  return deltas;
}

describe('readObject', () => {
  let repo: WorkRepo;
  let scratch: string;
  const lines = Array.from({ length: 300 }, (_, n) => `key${n}: value ${n} ${'x'.repeat(n % 17)}`);

  beforeAll(async () => {
    scratch = await createTempDir('cairn-object-reader-');
    repo = await createWorkRepo();
    // Files edited a line at a time make deltas once repacked; a large file needs a size of several bytes.
    for (let n = 0; n < 12; n++) {
      lines[n * 7] = `edited: ${n}`;
      await repo.write({
        'services/api/config/app.yaml': `${lines.join('\n')}\n`,
        [`services/s${n % 4}/config/rules/r${n}.yaml`]: `rule: ${n}\n`,
        'services/big/config/blob.bin': Buffer.alloc(300_000 + n, n),
      });
      await repo.commit(`Edit ${n}`);
    }
  });
  afterAll(async () => {
    await removeTempDir(scratch);
  });

  it('reads loose objects as git does', async () => {
    const gitdir = join(repo.dir, '.git');
    const expected = objectsByGit(gitdir);
    expect(fs.readdirSync(join(gitdir, 'objects')).some((name) => /^[0-9a-f]{2}$/.test(name))).toBe(true);
    const store = storeOf(gitdir);
    for (const [oid, { type, bytes }] of expected) {
      const read = await readObject(store, oid);
      expect({ oid, type: read.type }).toEqual({ oid, type });
      expect(read.bytes.equals(bytes)).toBe(true);
      // Its own bytes, or a share of the pool's: not a view of zlib's 16 KiB output buffer.
      expect(read.bytes.buffer.byteLength).toBeLessThanOrEqual(Math.max(Buffer.poolSize, 2 * bytes.length));
    }
  });

  for (const [name, offsets] of [
    ['ofs-delta', ['--delta-base-offset']],
    // Without --delta-base-offset, pack-objects names each delta's base by its id.
    ['ref-delta', []],
  ] as const) {
    it(`reads every object of a pack whose deltas are ${name}s as git does`, async () => {
      const gitdir = join(scratch, name);
      packAllObjects(join(repo.dir, '.git'), gitdir, ['--depth=50', '--window=50', ...offsets]);
      expect(fs.readdirSync(join(gitdir, 'objects')).filter((n) => /^[0-9a-f]{2}$/.test(n))).toEqual([]);
      expect(deltaCount(gitdir)).toBeGreaterThan(10);
      const expected = objectsByGit(gitdir);
      expect(expected.size).toBe(objectsByGit(join(repo.dir, '.git')).size);
      const store = storeOf(gitdir);
      for (const [oid, { type, bytes }] of expected) {
        // Through a store that kept what it resolved before, and through one that resolves it all.
        for (const read of [await readObject(store, oid), await readObject(storeOf(gitdir), oid)]) {
          expect({ oid, type: read.type }).toEqual({ oid, type });
          expect(read.bytes.equals(bytes)).toBe(true);
        }
      }
    });
  }

  it('keeps the objects it resolved: read again, they need no byte of the pack', async () => {
    const gitdir = join(scratch, 'kept');
    packAllObjects(join(repo.dir, '.git'), gitdir, ['--depth=50', '--window=50', '--delta-base-offset']);
    const expected = objectsByGit(gitdir);
    const store = storeOf(gitdir);
    for (const oid of expected.keys()) await readObject(store, oid);
    // Every entry zeroed, the pack's header and trailer aside (the listing and the index are the same).
    const [pack] = (await readdir(join(gitdir, 'objects', 'pack'))).filter((n) => n.endsWith('.pack'));
    const packPath = join(gitdir, 'objects', 'pack', pack as string);
    const bytes = await readFile(packPath);
    await writeFile(packPath, bytes.fill(0, 12, bytes.length - 20));
    for (const [oid, { type, bytes }] of expected) {
      const read = await readObject(store, oid);
      expect({ oid, type: read.type }).toEqual({ oid, type });
      expect(read.bytes.equals(bytes)).toBe(true);
    }
    // A store that resolved nothing yet reads the zeroed pack, and fails.
    await expect(readObject(storeOf(gitdir), [...expected.keys()][0] as string)).rejects.toThrow();
  });

  it('finds a pack added after its first read, and says which objects are missing or of another type', async () => {
    const gitdir = join(scratch, 'later');
    initBare(gitdir);
    const store = storeOf(gitdir);
    const head = git(join(repo.dir, '.git'), 'rev-parse', 'HEAD').trim();
    await expect(readObject(store, head)).rejects.toMatchObject({ code: 'NotFoundError' });
    execFileSync(
      'git',
      [
        '--git-dir',
        join(repo.dir, '.git'),
        'pack-objects',
        '--revs',
        '-q',
        join(gitdir, 'objects', 'pack', 'pack'),
      ],
      {
        env: isolatedGitEnv(),
        input: `${head}\n`,
      },
    );
    expect((await readObject(store, head, 'commit')).bytes.toString('utf8')).toContain('Edit 11');
    await expect(readObject(store, head, 'tree')).rejects.toMatchObject({ code: 'ObjectTypeError' });
    await expect(readObject(store, '0'.repeat(40))).rejects.toMatchObject({ code: 'NotFoundError' });
    await expect(readObject(store, 'HEAD')).rejects.toMatchObject({ code: 'NotFoundError' });
  });

  it('reads through a gc that replaced the pack it listed before the read', async () => {
    const gitdir = join(scratch, 'gc');
    packAllObjects(join(repo.dir, '.git'), gitdir);
    // What the pack holds is reachable from a branch: a repack keeps it.
    git(gitdir, 'update-ref', 'refs/heads/main', git(join(repo.dir, '.git'), 'rev-parse', 'HEAD').trim());
    const expected = objectsByGit(gitdir);
    const packFolder = join(gitdir, 'objects', 'pack');
    // The listing a read took just before a gc replaced the pack: handed out for the next `stale` listings.
    let stale = 0;
    let before: string[] = [];
    const promises = {
      ...fs.promises,
      async readdir(path: string) {
        if (path !== packFolder || stale === 0) return fs.promises.readdir(path);
        stale--;
        return [...before];
      },
    } as typeof fs.promises;
    const store: ObjectStore = { fs: { ...fs, promises } as typeof fs, gitdir, cache: {}, display: gitdir };
    const [first, second, third] = [...expected.keys()] as [string, string, string];
    await readObject(store, first);
    const gc = (content: string) => {
      before = fs.readdirSync(packFolder);
      // A new object makes the repacked pack another one: git removes the pack the listing named.
      const blob = execFileSync('git', ['--git-dir', gitdir, 'hash-object', '-w', '--stdin'], {
        env: isolatedGitEnv(),
        input: content,
      });
      git(gitdir, 'update-ref', `refs/tags/${content.trim().replaceAll(' ', '-')}`, blob.toString().trim());
      git(gitdir, 'repack', '-a', '-d', '-q');
      expect(fs.readdirSync(packFolder).some((name) => before.includes(name))).toBe(false);
    };
    gc('one more object\n');
    stale = 1;
    const read = await readObject(store, second);
    expect(read.bytes.equals(expected.get(second)?.bytes as Buffer)).toBe(true);
    // A pack gone at the second listing too is an error that says so.
    await readObject(store, first);
    gc('and another\n');
    stale = 2;
    await expect(readObject(store, third)).rejects.toThrow(/is gone from/);
  });

  it('refuses a damaged pack with an error, and a damaged index as no index', async () => {
    const gitdir = join(scratch, 'damaged');
    initBare(gitdir);
    await cp(join(scratch, 'ofs-delta', 'objects', 'pack'), join(gitdir, 'objects', 'pack'), {
      recursive: true,
    });
    const [pack] = (await readdir(join(gitdir, 'objects', 'pack'))).filter((n) => n.endsWith('.pack'));
    const packPath = join(gitdir, 'objects', 'pack', pack as string);
    const expected = objectsByGit(gitdir);
    const bytes = await readFile(packPath);
    // Every deflated byte after the pack's header, zeroed in the middle: each read either fails or,
    // for an object the damage missed, still gives git's bytes.
    bytes.fill(0, 12 + Math.floor((bytes.length - 32) / 2), bytes.length - 20 - 1000);
    await writeFile(packPath, bytes);
    const store = storeOf(gitdir);
    let failed = 0;
    for (const [oid, object] of expected) {
      try {
        expect((await readObject(store, oid)).bytes.equals(object.bytes)).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
        failed++;
      }
    }
    expect(failed).toBeGreaterThan(0);
    const [index] = (await readdir(join(gitdir, 'objects', 'pack'))).filter((n) => n.endsWith('.idx'));
    await writeFile(join(gitdir, 'objects', 'pack', index as string), 'not an index');
    await expect(readObject(storeOf(gitdir), [...expected.keys()][0] as string)).rejects.toThrow(
      /is no pack index of version 2/,
    );
  });
  it('reads a large entry off the event loop, and a small one without a turn of it', async () => {
    const gitdir = join(scratch, 'large');
    packAllObjects(join(repo.dir, '.git'), gitdir);
    // A clone as a fetch leaves it: listings and indexes from memory once read.
    const files = storeFiles(gitdir);
    const store: ObjectStore = { fs: files.fs, gitdir, cache: {}, display: gitdir };
    const head = git(join(repo.dir, '.git'), 'rev-parse', 'HEAD').trim();
    const large = git(join(repo.dir, '.git'), 'rev-parse', 'HEAD:services/big/config/blob.bin').trim();
    await readObject(store, head);
    let commit: Buffer | undefined;
    expect(await turnsDuring(async () => (commit = (await readObject(store, head)).bytes))).toBe(0);
    expect(commit?.toString('utf8')).toContain('Edit 11');
    let blob: Buffer | undefined;
    expect(await turnsDuring(async () => (blob = (await readObject(store, large)).bytes))).toBeGreaterThan(0);
    expect(blob?.length).toBeGreaterThan(LARGE_ENTRY_BYTES);
    expect(blob?.equals(Buffer.alloc(300_011, 11))).toBe(true);
  });
});

describe('ResolvedEntries', () => {
  const object = (size: number, fill = 0) => ({ type: 'blob' as const, bytes: Buffer.alloc(size, fill) });
  // An object of 100 bytes costs 228 with its overhead; a limit of 16 of them keeps 16 at most.
  const cost = 100 + 128;

  it('lets the least recently used objects go once they hold more than the limit', () => {
    const kept = new ResolvedEntries(16 * cost);
    for (let offset = 1; offset <= 16; offset++) kept.set('a.pack', offset, object(100, offset));
    expect(kept.bytes).toBe(16 * cost);
    // Read, the first is the last to go: the second goes instead.
    expect(kept.get('a.pack', 1)?.bytes[0]).toBe(1);
    kept.set('a.pack', 17, object(100, 17));
    expect(kept.bytes).toBe(16 * cost);
    expect(kept.get('a.pack', 2)).toBeUndefined();
    for (const offset of [1, 3, 16, 17]) expect(kept.get('a.pack', offset)?.bytes[0]).toBe(offset);
    // The same offset in another pack is another object.
    expect(kept.get('b.pack', 1)).toBeUndefined();
  });

  it('does not keep an object over a sixteenth of the limit, nor an offset twice', () => {
    const kept = new ResolvedEntries(16 * cost);
    kept.set('a.pack', 1, object(101));
    expect(kept.get('a.pack', 1)).toBeUndefined();
    expect(kept.bytes).toBe(0);
    kept.set('a.pack', 1, object(100, 7));
    kept.set('a.pack', 1, object(100, 8));
    expect(kept.get('a.pack', 1)?.bytes[0]).toBe(7);
    expect(kept.bytes).toBe(cost);
  });

  it('lets go of every object of a pack a repack removed, and of no other', () => {
    const kept = new ResolvedEntries(16 * cost);
    kept.set('/objects/pack/pack-1.pack', 12, object(100, 1));
    kept.set('/objects/pack/pack-2.pack', 12, object(100, 2));
    kept.set('/objects/pack/pack-1.pack', 40, object(100, 3));
    kept.forgetPack('/objects/pack/pack-1.pack');
    expect(kept.get('/objects/pack/pack-1.pack', 12)).toBeUndefined();
    expect(kept.get('/objects/pack/pack-1.pack', 40)).toBeUndefined();
    expect(kept.get('/objects/pack/pack-2.pack', 12)?.bytes[0]).toBe(2);
    expect(kept.bytes).toBe(cost);
  });
});

describe('inflateEntry and inflateEntryAsync', () => {
  const data = Buffer.from('key: value\n'.repeat(1000));
  const deflated = deflateSync(data);

  it('inflate an entry to the size it declares, and say how much of the input it took', async () => {
    const followed = Buffer.concat([deflated, Buffer.from('the next entry')]);
    const expected = { data, consumed: deflated.length };
    expect(inflateEntry(followed, data.length, 'entry')).toEqual(expected);
    expect(await inflateEntryAsync(followed, data.length, 'entry')).toEqual(expected);
  });

  it('hold no more memory than the data: a small one in the shared pool, a larger one alone', async () => {
    const small = Buffer.from('key: value\n'.repeat(50));
    const inflatedSmall = inflateEntry(deflateSync(small), small.length, 'entry').data;
    expect(inflatedSmall.equals(small)).toBe(true);
    expect(inflatedSmall.buffer.byteLength).toBeLessThanOrEqual(Buffer.poolSize);
    for (const inflated of [
      inflateEntry(deflated, data.length, 'entry').data,
      (await inflateEntryAsync(deflated, data.length, 'entry')).data,
    ]) {
      expect(inflated.equals(data)).toBe(true);
      expect(inflated.buffer.byteLength).toBeLessThanOrEqual(data.length + 1);
    }
  });

  it('refuse an entry that inflates past, or short of, its declared size', async () => {
    expect(() => inflateEntry(deflated, 100, 'the entry')).toThrow(
      /the entry inflates to more than the 100 bytes/,
    );
    await expect(inflateEntryAsync(deflated, 100, 'the entry')).rejects.toThrow(
      /the entry inflates to more than the 100 bytes/,
    );
    expect(() => inflateEntry(deflated, data.length + 1, 'e')).toThrow(
      /inflates to 11000 bytes, not the 11001/,
    );
    await expect(inflateEntryAsync(deflated, data.length + 1, 'e')).rejects.toThrow(
      /inflates to 11000 bytes, not the 11001/,
    );
    await expect(inflateEntryAsync(Buffer.from('not deflated'), 5, 'e')).rejects.toThrow(
      /e cannot be inflated/,
    );
    await expect(inflateEntryAsync(deflated, 100, 'e')).rejects.toBeInstanceOf(PackFormatError);
  });
});

describe('readEntryHeader', () => {
  it('reads sizes past 2^32 and the distance to an ofs-delta base', () => {
    // Type 3 (blob), size 0x1_0000_0005: 4 low bits, then 7 bits a byte.
    const size = 2 ** 32 + 5;
    const bytes = [0x80 | (3 << 4) | (size % 16)];
    for (let rest = Math.floor(size / 16); rest > 0; rest = Math.floor(rest / 128)) bytes.push(rest % 128);
    for (let n = 1; n < bytes.length - 1; n++) bytes[n] = (bytes[n] as number) | 0x80;
    expect(readEntryHeader(Uint8Array.from(bytes))).toEqual({
      kind: 'object',
      type: 'blob',
      size,
      length: bytes.length,
    });
    // Distance 200: 200 = (0 + 1) * 128 + 72, so the bytes are 0x80 | 0, then 72.
    expect(readEntryHeader(Uint8Array.from([0x60 | 5, 0x80, 72]))).toEqual({
      kind: 'ofs-delta',
      baseDistance: 200,
      size: 5,
      length: 3,
    });
  });

  it('refuses a header cut short, an unknown type, and a delta against itself', () => {
    expect(() => readEntryHeader(Uint8Array.from([0x80 | 0x30]))).toThrow(/ends inside its header/);
    expect(() => readEntryHeader(Uint8Array.from([0x50]))).toThrow(/unknown type 5/);
    expect(() => readEntryHeader(Uint8Array.from([0x60, 0]))).toThrow(/against itself/);
    expect(() => readEntryHeader(Uint8Array.from([0x70, 1, 2]))).toThrow(/inside its base id/);
  });
});
