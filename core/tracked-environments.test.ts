import { describe, expect, it } from 'vitest';
import { composeInventory, newestMatchingTag } from './tracked-environments.js';
import { ZkLayout } from './zk-layout.js';

const layout = new ZkLayout('/cairn');
const bytes = (text: string) => Buffer.from(text);

describe('the tag an environment serves', () => {
  const tags = [
    { name: 'v2.9.0', commit: 'a' },
    { name: 'v2.14.1', commit: 'b' },
    { name: 'v2.14.0', commit: 'c' },
    { name: 'nightly-2026-11-23', commit: 'd' },
  ];

  it('is the highest matching tag in version order', () => {
    expect(newestMatchingTag('v*', tags)).toEqual({ name: 'v2.14.1', commit: 'b' });
    expect(newestMatchingTag('v2.9.*', tags)).toEqual({ name: 'v2.9.0', commit: 'a' });
    expect(newestMatchingTag('nightly-*', tags)?.commit).toBe('d');
  });

  it('is none when nothing matches', () => {
    expect(newestMatchingTag('release/*', tags)).toBeUndefined();
    expect(newestMatchingTag('v*', [])).toBeUndefined();
  });
});

describe('composing the inventory of tracked environments', () => {
  const branch = new Map([
    ['/cairn/services/api', bytes('service')],
    ['/cairn/config/api', bytes('')],
    ['/cairn/config/api/dev', bytes('dev index')],
    ['/cairn/config/api/dev/app.yaml', bytes('dev main')],
    ['/cairn/config/api/prod', bytes('prod index main')],
    ['/cairn/config/api/prod/app.yaml', bytes('prod main')],
    ['/cairn/releases/api', bytes('')],
    ['/cairn/releases/api/prod', bytes('release main')],
  ]);

  it('takes a tracked environment from its tag and the rest from the branch', () => {
    const tag = new Map([
      ['/cairn/services/api', bytes('old service')],
      ['/cairn/config/api/prod', bytes('prod index tag')],
      ['/cairn/config/api/prod/rules/x.yaml', bytes('prod tag')],
      ['/cairn/config/api/dev/app.yaml', bytes('dev at the tag')],
    ]);
    const composed = composeInventory(layout, branch, new Map([['prod', tag]]));
    expect(Object.fromEntries([...composed].map(([k, v]) => [k, Buffer.from(v).toString()]))).toEqual({
      '/cairn/services/api': 'service',
      '/cairn/config/api': '',
      '/cairn/config/api/dev': 'dev index',
      '/cairn/config/api/dev/app.yaml': 'dev main',
      '/cairn/config/api/prod': 'prod index tag',
      '/cairn/config/api/prod/rules': '',
      '/cairn/config/api/prod/rules/x.yaml': 'prod tag',
      '/cairn/releases/api': '',
    });
  });

  it('leaves a tracked environment empty while no tag matches', () => {
    const composed = composeInventory(layout, branch, new Map([['prod', undefined]]));
    expect([...composed.keys()].filter((path) => path.includes('/prod'))).toEqual([]);
  });

  it('does not bring back a service the branch removed', () => {
    const tag = new Map([['/cairn/config/gone/prod', bytes('index')]]);
    expect(composeInventory(layout, branch, new Map([['prod', tag]])).has('/cairn/config/gone/prod')).toBe(
      false,
    );
  });
});
