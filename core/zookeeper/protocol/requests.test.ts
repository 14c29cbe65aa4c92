import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JuteReader } from './jute-reader.js';
import { OpCode } from './op-codes.js';
import {
  requestFrame,
  SET_WATCHES_MAX_BYTES,
  setWatchesOpCode,
  splitWatchSet,
  writeRequest,
} from './requests.js';

const NO_WATCHES = { data: [], exist: [], child: [], persistent: [], persistentRecursive: [] };

describe('splitWatchSet', () => {
  it('keeps every watch, in order, in packets of at most 128 KB of paths', () => {
    fc.assert(
      fc.property(
        fc.record({
          data: fc.array(fc.string({ minLength: 1, maxLength: 300 }), { maxLength: 400 }),
          exist: fc.array(fc.string({ minLength: 1, maxLength: 300 }), { maxLength: 400 }),
          child: fc.array(fc.string({ minLength: 1, maxLength: 300 }), { maxLength: 400 }),
          persistent: fc.array(fc.string({ minLength: 1, maxLength: 300 }), { maxLength: 50 }),
          persistentRecursive: fc.array(fc.string({ minLength: 1, maxLength: 300 }), { maxLength: 50 }),
        }),
        fc.integer({ min: 1000, max: 20_000 }),
        (watches, maxBytes) => {
          const batches = splitWatchSet(watches, maxBytes);
          for (const kind of ['data', 'exist', 'child', 'persistent', 'persistentRecursive'] as const)
            expect(batches.flatMap((batch) => batch[kind])).toEqual(watches[kind]);
          for (const batch of batches) {
            const paths = Object.values(batch).flat();
            const bytes = paths.reduce((sum, path) => sum + Buffer.byteLength(path) + 4, 0);
            expect(paths.length === 1 || bytes <= maxBytes).toBe(true);
          }
        },
      ),
    );
  });

  it('splits 30,000 long paths (over 1 MB) into packets under the limit', () => {
    const data = Array.from({ length: 30_000 }, (_, i) => `/cairn/config/service-${i}/${'x'.repeat(40)}`);
    const batches = splitWatchSet({ ...NO_WATCHES, data });
    expect(batches.length).toBeGreaterThan(10);
    for (const batch of batches) {
      const frame = requestFrame(-8, setWatchesOpCode(batch), writeRequest.setWatches(1n, batch));
      expect(frame.length).toBeLessThan(SET_WATCHES_MAX_BYTES + 1024);
    }
  });

  it('uses SetWatches2 only for packets that carry persistent watches', () => {
    expect(setWatchesOpCode({ ...NO_WATCHES, data: ['/a'] })).toBe(OpCode.setWatches);
    const both = { ...NO_WATCHES, data: ['/a'], persistentRecursive: ['/b'] };
    expect(setWatchesOpCode(both)).toBe(OpCode.setWatches2);
    const reader = new JuteReader(requestFrame(-8, OpCode.setWatches2, writeRequest.setWatches(7n, both)), 4);
    expect([reader.int(), reader.int(), reader.long()]).toEqual([-8, OpCode.setWatches2, 7n]);
    expect([
      reader.strings(),
      reader.strings(),
      reader.strings(),
      reader.strings(),
      reader.strings(),
    ]).toEqual([['/a'], [], [], [], ['/b']]);
  });
});
