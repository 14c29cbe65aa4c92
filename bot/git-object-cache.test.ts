import { describe, expect, it } from 'vitest';
import { GitObjectCache } from './git-object-cache.js';

const bytes = (n: number) => new Uint8Array(n);

describe('GitObjectCache', () => {
  it('fetches a blob once, even when asked twice at the same time', async () => {
    const cache = new GitObjectCache(1000);
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      return bytes(10);
    };
    const [a, b] = await Promise.all([cache.blob('x', fetch), cache.blob('x', fetch)]);
    expect(a).toBe(b);
    await cache.blob('x', fetch);
    expect(fetches).toBe(1);
  });

  it('forgets the least recently used blobs beyond its byte budget', async () => {
    const cache = new GitObjectCache(25);
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      return bytes(10);
    };
    await cache.blob('a', fetch);
    await cache.blob('b', fetch);
    await cache.blob('a', fetch);
    await cache.blob('c', fetch);
    expect(fetches).toBe(3);
    await cache.blob('a', fetch);
    expect(fetches).toBe(3);
    await cache.blob('b', fetch);
    expect(fetches).toBe(4);
  });

  it('keeps the trees of the most recently used commits, up to a count', async () => {
    const cache = new GitObjectCache(0, 32, 2);
    const fetched: string[] = [];
    const treeOf = (commit: string) => async () => {
      fetched.push(commit);
      return `tree-of-${commit}`;
    };
    expect(await cache.commitTree('a', treeOf('a'))).toBe('tree-of-a');
    await cache.commitTree('b', treeOf('b'));
    await cache.commitTree('a', treeOf('a'));
    await cache.commitTree('c', treeOf('c'));
    await cache.commitTree('a', treeOf('a'));
    await cache.commitTree('b', treeOf('b'));
    expect(fetched).toEqual(['a', 'b', 'c', 'b']);
  });

  it('does not keep a failed fetch', async () => {
    const cache = new GitObjectCache(100);
    await expect(cache.blob('x', () => Promise.reject(new Error('502')))).rejects.toThrow('502');
    await expect(cache.blob('x', async () => bytes(1))).resolves.toHaveLength(1);
  });
});
