import { describe, expect, it } from 'vitest';
import { newestMatchingTag } from './tracked-environments.js';

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
