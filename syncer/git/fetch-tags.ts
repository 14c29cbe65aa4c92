import git from 'isomorphic-git';
import type { TagRef } from '../../core/index.js';
import { withDeadline } from './deadline.js';
import { GitUnreachableError } from './errors.js';
import { abortableHttp, fetchFailure, fetchRef } from './fetch-branch.js';
import { gitErrorCode } from './git-error-code.js';
import type { ObjectStore } from './object-store.js';
import type { Remote } from './remote.js';

const TAG_PREFIX = 'refs/tags/';

/**
 * The tags on the server, each with the commit it points at (the server peels annotated tags), and
 * the objects of any tagged commit the store does not have yet (a tag on a release branch, say).
 * isomorphic-git's `fetch` writes tags only when it fetches every branch, which a config repository
 * full of pull-request branches should not cost; so the tags are listed, and fetched one by one.
 */
export async function fetchTags(store: ObjectStore, remote: Remote, timeoutMs: number): Promise<TagRef[]> {
  const { display } = store;
  const unreachable = () => new GitUnreachableError(display, `no answer within ${timeoutMs} ms`);
  try {
    const refs = await withDeadline(
      timeoutMs,
      (signal) =>
        git.listServerRefs({
          http: abortableHttp(signal),
          url: remote.url,
          ...(remote.onAuth ? { onAuth: remote.onAuth } : {}),
          prefix: TAG_PREFIX,
          peelTags: true,
          protocolVersion: 2,
        }),
      unreachable,
    );
    const tags = refs
      .filter((ref) => ref.ref.startsWith(TAG_PREFIX))
      .map((ref) => ({ name: ref.ref.slice(TAG_PREFIX.length), commit: ref.peeled ?? ref.oid }));
    for (const tag of tags) {
      if (await hasObject(store, tag.commit)) continue;
      await fetchRef(store, remote, { remoteRef: `${TAG_PREFIX}${tag.name}` }, timeoutMs);
    }
    return tags;
  } catch (error) {
    throw fetchFailure(error, display, 'tags', TAG_PREFIX);
  }
}

async function hasObject(store: ObjectStore, oid: string): Promise<boolean> {
  try {
    await git.readObject({ fs: store.fs, gitdir: store.gitdir, cache: store.cache, oid, format: 'deflated' });
    return true;
  } catch (error) {
    if (gitErrorCode(error) === 'NotFoundError') return false;
    throw error;
  }
}
