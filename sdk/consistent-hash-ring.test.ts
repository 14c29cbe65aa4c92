import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConsistentHashRing } from './consistent-hash-ring.js';

const nodes = fc.uniqueArray(
  fc.record({ key: fc.string({ minLength: 1, maxLength: 8 }), weight: fc.integer({ min: 1, max: 200 }) }),
  { selector: (node) => node.key, minLength: 1, maxLength: 6 },
);
const requestKeys = fc.uniqueArray(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 40 });

describe('ConsistentHashRing', () => {
  it('gives each key one owner, whatever order the items come in', () => {
    fc.assert(
      fc.property(nodes, requestKeys, (list, keys) => {
        const ring = new ConsistentHashRing(list);
        const reversed = new ConsistentHashRing([...list].reverse());
        for (const key of keys) expect(reversed.get(key)?.key).toBe(ring.get(key)?.key);
      }),
      { numRuns: 50 },
    );
  });

  it('moves keys only to an added item, and only the keys of a removed item', () => {
    fc.assert(
      fc.property(nodes, requestKeys, fc.string({ minLength: 9, maxLength: 12 }), (list, keys, added) => {
        const before = new ConsistentHashRing(list);
        const grown = new ConsistentHashRing([...list, { key: added, weight: 100 }]);
        for (const key of keys) {
          const owner = grown.get(key)?.key;
          if (owner !== added) expect(owner).toBe(before.get(key)?.key);
        }
        const removed = list[0]?.key;
        const shrunk = new ConsistentHashRing(list.slice(1));
        for (const key of keys) {
          const owner = before.get(key)?.key;
          if (owner !== removed) expect(shrunk.get(key)?.key).toBe(owner);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('shares keys in proportion to weight, and gives none to a zero weight', () => {
    const ring = new ConsistentHashRing([
      { key: 'small:8080', weight: 100 },
      { key: 'large:8080', weight: 200 },
      { key: 'drained:8080', weight: 0 },
    ]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 30_000; i++) {
      const owner = ring.get(`user-${i}`)?.key as string;
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    expect(counts.get('drained:8080')).toBeUndefined();
    const ratio = (counts.get('large:8080') ?? 0) / (counts.get('small:8080') ?? 1);
    expect(ratio).toBeGreaterThan(1.6);
    expect(ratio).toBeLessThan(2.5);
  });

  it('has no owner when empty or all weights are zero, and refuses bad weights', () => {
    expect(new ConsistentHashRing([]).get('x')).toBeUndefined();
    expect(new ConsistentHashRing([{ key: 'a', weight: 0 }]).get('x')).toBeUndefined();
    expect(() => new ConsistentHashRing([{ key: 'a', weight: -5 }])).toThrow(RangeError);
    expect(() => new ConsistentHashRing([{ key: 'a', weight: 1 }], { pointsPerWeight: 0 })).toThrow(
      RangeError,
    );
  });
});
