import git from 'isomorphic-git';
import { gitErrorCode } from './git-error-code.js';
import type { ObjectStore } from './object-store.js';

/** Whether the store holds the object `oid` (read through the store's cache: an index lookup). */
export async function hasObject(store: ObjectStore, oid: string): Promise<boolean> {
  try {
    await git.readObject({ fs: store.fs, gitdir: store.gitdir, cache: store.cache, oid, format: 'deflated' });
    return true;
  } catch (error) {
    if (gitErrorCode(error) === 'NotFoundError') return false;
    throw error;
  }
}
