import { describe, expect, it } from 'vitest';
import { UnsafePathError } from './errors.js';
import { ZkLayout } from './zk-layout.js';

describe('ZkLayout', () => {
  const layout = new ZkLayout('/cairn');

  it('builds the documented paths', () => {
    expect(layout.head()).toBe('/cairn/head');
    expect(layout.configEnv('recommender', 'prod')).toBe('/cairn/config/recommender/prod');
    expect(layout.configFile('recommender', 'prod', 'rules/boost.yaml')).toBe(
      '/cairn/config/recommender/prod/rules/boost.yaml',
    );
    expect(layout.release('search-api', 'staging')).toBe('/cairn/releases/search-api/staging');
    expect(layout.instance('search-api', 'dev', 'host-1')).toBe('/cairn/instances/search-api/dev/host-1');
    expect(layout.historyPrefix()).toBe('/cairn/history/h-');
  });

  it('honours a nested root', () => {
    expect(new ZkLayout('/teams/web/cairn').head()).toBe('/teams/web/cairn/head');
  });

  it('lists ancestors below the root, outermost first', () => {
    expect(layout.ancestorsOf('/cairn/config/a/prod/x/y.yaml')).toEqual([
      '/cairn',
      '/cairn/config',
      '/cairn/config/a',
      '/cairn/config/a/prod',
      '/cairn/config/a/prod/x',
    ]);
  });

  it.each([['cairn'], ['/'], ['/cairn/'], ['/a/../b'], ['/a//b']])('refuses the root %j', (root) => {
    expect(() => new ZkLayout(root)).toThrow(UnsafePathError);
  });

  it('refuses names that would escape their folder', () => {
    expect(() => layout.service('../head')).toThrow(UnsafePathError);
    expect(() => layout.configFile('svc', 'prod', '../../head')).toThrow(UnsafePathError);
    expect(() => layout.configEnv('svc', 'a/b')).toThrow(UnsafePathError);
    expect(() => layout.agent('host\u0000')).toThrow(UnsafePathError);
  });
});
