import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentId, encodeEnvironmentManifest, PARSE_RULES_VERSION } from '../core/index.js';
import { type CachedSnapshot, decodeCacheFile, encodeCacheFile } from './cache-file.js';

const files = new Map<string, Uint8Array>([
  ['application.yaml', Buffer.from('server:\n  port: 8080\n')],
  ['model.bin', Uint8Array.from([0, 255, 1, 254])],
  ['rules/empty.txt', new Uint8Array(0)],
]);
const snapshot: CachedSnapshot = {
  service: 'recommender',
  env: 'prod',
  change: {
    commit: 'a'.repeat(40),
    author: { name: 'Ada', email: 'ada@example.com' },
    message: 'Tune the ranking',
    time: '2025-01-01T00:00:00Z',
  },
  files,
};
const expected = { service: 'recommender', env: 'prod' };

describe('the cache file', () => {
  const ids = new Map([...files].map(([file, bytes]) => [file, contentId(bytes)]));
  const manifest = contentId(encodeEnvironmentManifest({ files: ids }));

  it("round-trips a snapshot byte for byte, with each file's content id and the manifest's", () => {
    const decoded = decodeCacheFile(encodeCacheFile(snapshot), expected);
    expect(decoded).toEqual({
      ok: true,
      snapshot: {
        ...snapshot,
        files: expect.any(Map),
        contentIds: ids,
        manifest,
        parseRules: PARSE_RULES_VERSION,
        contentsUnchecked: true,
      },
    });
    if (decoded.ok)
      for (const [file, bytes] of snapshot.files)
        expect(decoded.snapshot.files.get(file)).toEqual(new Uint8Array(bytes));
  });

  it('records the ids it is given rather than hashing the files again', () => {
    const given = new Map([...ids].map(([file]) => [file, 'f'.repeat(40)]));
    const decoded = decodeCacheFile(
      encodeCacheFile({ ...snapshot, contentIds: given, manifest: 'e'.repeat(40) }),
      expected,
    );
    expect(decoded).toMatchObject({ ok: true, snapshot: { contentIds: given, manifest: 'e'.repeat(40) } });
  });

  it("detects any single flipped bit: in the header or index by the checksum, in a file by the file's content id", () => {
    const bytes = encodeCacheFile(snapshot);
    const filesStart = bytes.length - [...files.values()].reduce((sum, file) => sum + file.length, 0);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 7 }), (index, bit) => {
        const damaged = Uint8Array.from(bytes);
        damaged[index] = (damaged[index] as number) ^ (1 << bit);
        const decoded = decodeCacheFile(damaged, expected);
        if (index < filesStart) {
          expect(decoded.ok).toBe(false);
          return;
        }
        // The index decodes, the files unchecked: exactly one file fails its id.
        if (!decoded.ok) throw new Error(decoded.reason);
        expect(decoded.snapshot.contentsUnchecked).toBe(true);
        const failing = [...decoded.snapshot.files].filter(
          ([file, content]) => contentId(content) !== decoded.snapshot.contentIds?.get(file),
        );
        expect(failing).toHaveLength(1);
      }),
    );
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), (length) => {
        expect(decodeCacheFile(bytes.subarray(0, length), expected).ok).toBe(false);
      }),
    );
  });

  it('refuses a file of another service or environment, another version, or another format', () => {
    const bytes = encodeCacheFile(snapshot);
    expect(decodeCacheFile(bytes, { service: 'recommender', env: 'dev' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('recommender/prod'),
    });
    const v5 = Buffer.from(
      Buffer.from(bytes).toString('latin1').replace('cairn-sdk-cache 4', 'cairn-sdk-cache 5'),
      'latin1',
    );
    expect(decodeCacheFile(v5, expected)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('version'),
    });
    expect(decodeCacheFile(Buffer.from('{"files":{}}\n{}'), expected)).toMatchObject({ ok: false });
    expect(decodeCacheFile(new Uint8Array(0), expected)).toMatchObject({ ok: false });
  });
});

describe('the cache file, checksum aside', () => {
  /** A file whose checksum is right but whose body is wrong: what a bug, not a bad disk, writes. */
  const withBody = (body: Buffer, version = 2) =>
    Buffer.concat([
      Buffer.from(`cairn-sdk-cache ${version} ${createHash('sha256').update(body).digest('hex')}\n`),
      body,
    ]);
  const index = (files: unknown, more: Record<string, unknown> = {}) =>
    `${JSON.stringify({ service: 'recommender', env: 'prod', change: snapshot.change, ...more, files })}\n`;
  const id = 'a'.repeat(40);

  it('refuses file entries that are malformed, run past the end, or leave bytes over', () => {
    const cases: [string, Buffer, string][] = [
      ['negative length', Buffer.from(`${index([['a.yaml', -1]])}`), 'bad file entry'],
      ['not a pair', Buffer.from(`${index(['a.yaml'])}`), 'bad file entry'],
      ['past the end', Buffer.from(`${index([['a.yaml', 10]])}abc`), 'runs past the end'],
      ['bytes over', Buffer.from(`${index([['a.yaml', 1]])}abc`), '2 bytes after the last file'],
      ['no index line', Buffer.from('{}'), 'no index line'],
      ['index not JSON', Buffer.from('{oops\n'), 'index is not JSON'],
    ];
    for (const [what, body, reason] of cases)
      expect(decodeCacheFile(withBody(body), expected), what).toEqual({
        ok: false,
        reason: expect.stringContaining(reason),
      });
  });

  it('refuses a version 3 index without a well-formed content id for the manifest and every file', () => {
    const cases: [string, Buffer, string][] = [
      ['no manifest', Buffer.from(`${index([['a.yaml', 1, id]])}a`), 'no manifest id'],
      ['manifest not an id', Buffer.from(`${index([], { manifest: 'HEAD' })}`), 'no manifest id'],
      ['file without an id', Buffer.from(`${index([['a.yaml', 1]], { manifest: id })}a`), 'bad file entry'],
      [
        'file id not hex',
        Buffer.from(`${index([['a.yaml', 1, 'z'.repeat(40)]], { manifest: id })}a`),
        'bad file entry',
      ],
    ];
    for (const [what, body, reason] of cases)
      expect(decodeCacheFile(withBody(body, 3), expected), what).toEqual({
        ok: false,
        reason: expect.stringContaining(reason),
      });
  });

  it('still reads a version 3 file (the whole body under the checksum): its files need no check', () => {
    const ids = [...files].map(([file, bytes]) => [file, bytes.byteLength, contentId(bytes)]);
    const body = Buffer.concat([
      Buffer.from(index(ids, { manifest: id, parseRules: PARSE_RULES_VERSION })),
      ...files.values(),
    ]);
    const decoded = decodeCacheFile(withBody(body, 3), expected);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.snapshot.contentsUnchecked).toBeUndefined();
    expect(decoded.snapshot.manifest).toBe(id);
    expect([...decoded.snapshot.files].map(([file, bytes]) => [file, [...bytes]])).toEqual(
      [...files].map(([file, bytes]) => [file, [...bytes]]),
    );
    // Its checksum still covers the files' bytes.
    const flipped = withBody(body, 3);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 1;
    expect(decodeCacheFile(flipped, expected)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('checksum'),
    });
  });

  it('still reads a version 2 file (no content ids): they are left to be hashed', () => {
    const body = Buffer.concat([
      Buffer.from(index([...files].map(([file, bytes]) => [file, bytes.byteLength]))),
      ...files.values(),
    ]);
    const decoded = decodeCacheFile(withBody(body, 2), expected);
    expect(decoded.ok && decoded.snapshot.contentIds).toBeUndefined();
    expect(decoded.ok && [...decoded.snapshot.files].map(([file, bytes]) => [file, [...bytes]])).toEqual(
      [...files].map(([file, bytes]) => [file, [...bytes]]),
    );
  });

  it('still reads a version 1 file (all JSON, files in base64)', () => {
    const body = Buffer.from(
      JSON.stringify({
        service: 'recommender',
        env: 'prod',
        change: snapshot.change,
        files: Object.fromEntries(
          [...files].map(([file, bytes]) => [file, Buffer.from(bytes).toString('base64')]),
        ),
      }),
    );
    const decoded = decodeCacheFile(withBody(body, 1), expected);
    expect(decoded.ok && [...decoded.snapshot.files].map(([file, bytes]) => [file, [...bytes]])).toEqual(
      [...files].map(([file, bytes]) => [file, [...bytes]]),
    );
  });
});
