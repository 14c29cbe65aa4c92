import git from 'isomorphic-git';
import type { TagRef } from '../../core/index.js';
import { gitErrorCode } from './git-error-code.js';
import type { ObjectStore } from './object-store.js';

/** Every tag of the local copy, with the commit it points at (annotated tags are peeled). */
export async function listTags(store: ObjectStore): Promise<TagRef[]> {
  const { fs, gitdir } = store;
  const names = await git.listTags({ fs, gitdir });
  const tags = await Promise.all(
    names.map(async (name) => {
      const commit = await peelToCommit(
        store,
        await git.resolveRef({ fs, gitdir, ref: `refs/tags/${name}` }),
      );
      return commit ? { name, commit } : undefined;
    }),
  );
  return tags.filter((tag): tag is TagRef => tag !== undefined);
}

/** Follows annotated tags down to a commit; undefined for a tag of a tree or blob, or a missing object. */
async function peelToCommit(store: ObjectStore, oid: string): Promise<string | undefined> {
  const { fs, gitdir, cache } = store;
  let current = oid;
  for (let depth = 0; depth < 10; depth++) {
    let object: Awaited<ReturnType<typeof git.readObject>>;
    try {
      object = await git.readObject({ fs, gitdir, cache, oid: current, format: 'parsed' });
    } catch (error) {
      if (gitErrorCode(error) === 'NotFoundError') return undefined;
      throw error;
    }
    if (object.type === 'commit') return current;
    if (object.type !== 'tag') return undefined;
    current = (object.object as { object: string }).object;
  }
  return undefined;
}
