import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyPath, type RepoPath } from './repo-layout.js';

/** The layout as its comment states it, path segment by segment: what `classifyPath` must agree with. */
function byParts(path: string): RepoPath {
  if (path === 'cairn.yaml') return { kind: 'settings' };
  if (path === 'policy.yaml') return { kind: 'policy' };
  const parts = path.split('/');
  if (parts[0] !== 'services' || parts.length < 3) return { kind: 'other' };
  const [, service = '', area] = parts;
  if (parts.length === 3 && area === 'service.yaml') return { kind: 'service', service };
  if (area === 'config' && parts.length >= 4) {
    const first = parts[3] as string;
    if (first.startsWith('@') && parts.length >= 5)
      return { kind: 'overlay', service, env: first.slice(1), file: parts.slice(4).join('/') };
    return { kind: 'config', service, file: parts.slice(3).join('/') };
  }
  if (area === 'releases' && parts.length === 4 && parts[3]?.endsWith('.yaml'))
    return { kind: 'release', service, env: (parts[3] as string).slice(0, -5) };
  return { kind: 'stray', service };
}

describe('classifyPath', () => {
  it.each<[string, RepoPath]>([
    ['cairn.yaml', { kind: 'settings' }],
    ['policy.yaml', { kind: 'policy' }],
    ['README.md', { kind: 'other' }],
    ['services/api', { kind: 'other' }],
    ['services/api/service.yaml', { kind: 'service', service: 'api' }],
    ['services/api/config/conf.d/app.yaml', { kind: 'config', service: 'api', file: 'conf.d/app.yaml' }],
    [
      'services/api/config/@prod/conf.d/app.yaml',
      { kind: 'overlay', service: 'api', env: 'prod', file: 'conf.d/app.yaml' },
    ],
    // An `@` file with nothing under it is a base file of that name.
    ['services/api/config/@prod', { kind: 'config', service: 'api', file: '@prod' }],
    ['services/api/releases/prod.yaml', { kind: 'release', service: 'api', env: 'prod' }],
    ['services/api/releases/old/prod.yaml', { kind: 'stray', service: 'api' }],
    ['services/api/notes.txt', { kind: 'stray', service: 'api' }],
  ])('places %s', (path, place) => {
    expect(classifyPath(path)).toEqual(place);
  });

  it('agrees with the layout read segment by segment, for any path', () => {
    const segment = fc.constantFrom(
      '',
      'services',
      'api',
      'config',
      'releases',
      'service.yaml',
      'prod.yaml',
      '.yaml',
      '@prod',
      '@',
      'app.yaml',
      'cairn.yaml',
      'policy.yaml',
    );
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (parts) => {
        const path = parts.join('/');
        expect(classifyPath(path)).toEqual(byParts(path));
      }),
      { numRuns: 2000 },
    );
  });
});
