import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CachedSnapshot, decodeCacheFile, encodeCacheFile } from './cache-file.js';

const snapshot: CachedSnapshot = {
  service: 'recommender',
  env: 'prod',
  change: {
    commit: 'a'.repeat(40),
    author: { name: 'Ada', email: 'ada@example.com' },
    message: 'Tune the ranking',
    time: '2025-01-01T00:00:00Z',
  },
  files: new Map([
    ['application.yaml', Buffer.from('server:\n  port: 8080\n')],
    ['model.bin', Uint8Array.from([0, 255, 1, 254])],
    ['rules/empty.txt', new Uint8Array(0)],
  ]),
};
const expected = { service: 'recommender', env: 'prod' };

describe('the cache file', () => {
  it('round-trips a snapshot byte for byte', () => {
    const decoded = decodeCacheFile(encodeCacheFile(snapshot), expected);
    expect(decoded).toEqual({ ok: true, snapshot: { ...snapshot, files: expect.any(Map) } });
    if (decoded.ok)
      for (const [file, bytes] of snapshot.files)
        expect(decoded.snapshot.files.get(file)).toEqual(new Uint8Array(bytes));
  });

  it('detects any single flipped bit, and any truncation', () => {
    const bytes = encodeCacheFile(snapshot);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 7 }), (index, bit) => {
        const damaged = Uint8Array.from(bytes);
        damaged[index] = (damaged[index] as number) ^ (1 << bit);
        expect(decodeCacheFile(damaged, expected).ok).toBe(false);
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
    const v2 = Buffer.from(
      Buffer.from(bytes).toString('latin1').replace('cairn-sdk-cache 1', 'cairn-sdk-cache 2'),
      'latin1',
    );
    expect(decodeCacheFile(v2, expected)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('version'),
    });
    expect(decodeCacheFile(Buffer.from('{"files":{}}\n{}'), expected)).toMatchObject({ ok: false });
    expect(decodeCacheFile(new Uint8Array(0), expected)).toMatchObject({ ok: false });
  });
});
