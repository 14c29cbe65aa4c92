import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmoothWeightedRoundRobin } from './smooth-weighted-round-robin.js';

const items = fc.uniqueArray(
  fc.record({ key: fc.string({ minLength: 1, maxLength: 6 }), weight: fc.integer({ min: 0, max: 20 }) }),
  { selector: (item) => item.key, minLength: 1, maxLength: 8 },
);

function counts(picker: SmoothWeightedRoundRobin<{ key: string; weight: number }>, picks: number) {
  const seen = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const key = picker.pick()?.key;
    if (key !== undefined) seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return seen;
}

describe('SmoothWeightedRoundRobin', () => {
  it('spreads picks like nginx: weights 5, 1, 1 give a a b a c a a', () => {
    const picker = new SmoothWeightedRoundRobin([
      { key: 'a', weight: 5 },
      { key: 'b', weight: 1 },
      { key: 'c', weight: 1 },
    ]);
    expect(Array.from({ length: 7 }, () => picker.pick()?.key).join(' ')).toBe('a a b a c a a');
  });

  it('picks each item exactly its weight times in every run of total-weight picks, never a zero weight', () => {
    fc.assert(
      fc.property(items, fc.integer({ min: 1, max: 3 }), (list, rounds) => {
        const total = list.reduce((sum, item) => sum + item.weight, 0);
        const picker = new SmoothWeightedRoundRobin(list);
        const seen = counts(picker, total * rounds);
        for (const item of list) expect(seen.get(item.key) ?? 0).toBe(item.weight * rounds);
        if (total === 0) expect(picker.pick()).toBeUndefined();
      }),
    );
  });

  it('never picks one item twice in a row while others have as much weight', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 50 }), (n, weight) => {
        const picker = new SmoothWeightedRoundRobin(
          Array.from({ length: n }, (_, i) => ({ key: `k${i}`, weight })),
        );
        let previous: string | undefined;
        for (let i = 0; i < n * 3; i++) {
          const key = picker.pick()?.key;
          expect(key).not.toBe(previous);
          previous = key;
        }
      }),
    );
  });

  it('keeps the rotation of items that stay when the set changes, and refuses bad weights', () => {
    const picker = new SmoothWeightedRoundRobin([
      { key: 'a', weight: 1 },
      { key: 'b', weight: 1 },
    ]);
    const first = picker.pick()?.key;
    picker.update([
      { key: 'a', weight: 1 },
      { key: 'b', weight: 1 },
    ]);
    expect(picker.pick()?.key).not.toBe(first);
    expect(() => picker.update([{ key: 'a', weight: -1 }])).toThrow(RangeError);
    expect(() => new SmoothWeightedRoundRobin([{ key: 'a', weight: Number.NaN }])).toThrow(RangeError);
    expect(new SmoothWeightedRoundRobin([]).pick()).toBeUndefined();
  });
});
