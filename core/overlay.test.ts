import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepMerge, mergeOverlay } from './overlay.js';

describe('overlay merge', () => {
  it('merges maps, replaces arrays and deletes keys set to null', () => {
    const base = {
      server: { port: 80, hosts: ['a', 'b'], tls: { enabled: false, cert: '/x' } },
      debug: true,
    };
    const overlay = { server: { hosts: ['c'], tls: { enabled: true } }, debug: null };
    expect(mergeOverlay('yaml', base, overlay)).toEqual({
      server: { port: 80, hosts: ['c'], tls: { enabled: true, cert: '/x' } },
    });
  });

  it('drops nulls inside a map the overlay adds fresh', () => {
    expect(deepMerge({ a: 1 }, { b: { c: null, d: 2 } })).toEqual({ a: 1, b: { d: 2 } });
  });

  it('merges properties key by key', () => {
    expect(mergeOverlay('properties', { a: '1', b: '2' }, { b: '3', c: '4' })).toEqual({
      a: '1',
      b: '3',
      c: '4',
    });
  });

  it('merges INI section by section, key by key', () => {
    const merged = mergeOverlay(
      'ini',
      { name: 'x', db: { host: 'a', port: '1' } },
      { db: { host: 'b' }, cache: { ttl: '5' } },
    );
    expect(merged).toEqual({ name: 'x', db: { host: 'b', port: '1' }, cache: { ttl: '5' } });
  });

  const jsonValue = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<unknown>;
  const map = fc.dictionary(fc.string({ maxLength: 4 }), jsonValue, { maxKeys: 5 });

  it('never lets the base win over a non-null overlay value', () => {
    fc.assert(
      fc.property(map, map, (base, overlay) => {
        const merged = deepMerge(base, overlay) as Record<string, unknown>;
        for (const [key, value] of Object.entries(overlay)) {
          if (value === null) expect(key in merged).toBe(false);
          else if (typeof value !== 'object' || Array.isArray(value)) expect(merged[key]).toEqual(value);
        }
      }),
    );
  });

  it('keeps the base unchanged under an empty overlay and never mutates its inputs', () => {
    fc.assert(
      fc.property(map, map, (base, overlay) => {
        const baseCopy = structuredClone(base);
        const overlayCopy = structuredClone(overlay);
        expect(deepMerge(base, {})).toEqual(base);
        deepMerge(base, overlay);
        expect(base).toEqual(baseCopy);
        expect(overlay).toEqual(overlayCopy);
      }),
    );
  });
});
