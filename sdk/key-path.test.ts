import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyPathError, lookUpKeyPath, parseKeyPath } from './key-path.js';

describe('key paths', () => {
  const app = {
    ranking: { maxResults: 40, models: [{ name: 'gbdt' }, { name: 'linear' }] },
    'server.port': '8080',
    empty: null,
  };

  it('reads dotted keys, array items by index or in brackets, and the whole file for ""', () => {
    expect(lookUpKeyPath(app, parseKeyPath('ranking.maxResults'))).toEqual({ found: true, value: 40 });
    expect(lookUpKeyPath(app, parseKeyPath('ranking.models.1.name'))).toEqual({
      found: true,
      value: 'linear',
    });
    expect(lookUpKeyPath(app, parseKeyPath('ranking.models[0].name'))).toEqual({
      found: true,
      value: 'gbdt',
    });
    expect(lookUpKeyPath(app, parseKeyPath(''))).toEqual({ found: true, value: app });
    expect(lookUpKeyPath(app, parseKeyPath('empty'))).toEqual({ found: true, value: null });
  });

  it('matches a key that contains dots whole, as a .properties file has them', () => {
    expect(lookUpKeyPath(app, parseKeyPath('server.port'))).toEqual({ found: true, value: '8080' });
  });

  it('says how far it got when a key is missing', () => {
    expect(lookUpKeyPath(app, parseKeyPath('ranking.minResults'))).toEqual({ found: false, at: 'ranking' });
    expect(lookUpKeyPath(app, parseKeyPath('ranking.models.2'))).toEqual({
      found: false,
      at: 'ranking.models',
    });
    expect(lookUpKeyPath(app, parseKeyPath('ranking.models.x'))).toEqual({
      found: false,
      at: 'ranking.models',
    });
    expect(lookUpKeyPath(app, parseKeyPath('ranking.maxResults.x'))).toEqual({
      found: false,
      at: 'ranking.maxResults',
    });
    expect(lookUpKeyPath('text', parseKeyPath('a'))).toEqual({ found: false, at: '' });
  });

  it('refuses a malformed path with INVALID_KEY_PATH', () => {
    for (const bad of ['a..b', '.a', 'a.', 'a[x]', 'a[0', 'a]']) {
      expect(() => parseKeyPath(bad)).toThrow(KeyPathError);
      try {
        parseKeyPath(bad);
      } catch (error) {
        expect((error as KeyPathError).code).toBe('INVALID_KEY_PATH');
      }
    }
  });

  it('finds every leaf of any JSON value by the path that leads to it', () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9_-]{0,6}$/);
    fc.assert(
      fc.property(
        fc.dictionary(
          key,
          fc.oneof(fc.integer(), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(key, fc.string())),
        ),
        (value) => {
          for (const [k, v] of Object.entries(value)) {
            expect(lookUpKeyPath(value, parseKeyPath(k))).toEqual({ found: true, value: v });
            if (Array.isArray(v))
              v.forEach((item, i) => {
                expect(lookUpKeyPath(value, parseKeyPath(`${k}[${i}]`))).toEqual({
                  found: true,
                  value: item,
                });
              });
            else if (v && typeof v === 'object')
              for (const [k2, v2] of Object.entries(v))
                expect(lookUpKeyPath(value, parseKeyPath(`${k}.${k2}`))).toEqual({ found: true, value: v2 });
          }
        },
      ),
    );
  });
});
