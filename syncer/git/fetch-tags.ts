import type { TagRef } from '../../core/index.js';
import { fetchFailure } from './fetch-branch.js';
import { fetchPack } from './fetch-pack.js';
import { hasObject } from './object-reader.js';
import type { ObjectStore } from './object-store.js';
import type { RefAdvertisement } from './ref-advertisement.js';
import type { Remote } from './remote.js';

const TAG_PREFIX = 'refs/tags/';

/**
 * The tags of `advertisement`, after fetching the objects of any tagged commit the store does not
 * have yet (a tag on a release branch, say). isomorphic-git's `fetch` writes tags only when it
 * fetches every branch, which a config repository full of pull-request branches should not cost; so
 * the tags are read from the advertisement, and a commit missing here is fetched by its tag, offering `have` (the
 * branch's head) as what the store holds. A tag
 * whose commit the store already has (every tag of the tracked branch) costs no request. `present`
 * remembers the commits found, as objects never leave the store.
 */
export async function fetchTags(
  store: ObjectStore,
  remote: Remote,
  timeoutMs: number,
  advertisement: RefAdvertisement,
  have: string,
  present: Set<string>,
): Promise<readonly TagRef[]> {
  try {
    for (const tag of advertisement.tags) {
      if (present.has(tag.commit)) continue;
      // The tag's own object (an annotated tag) comes with the commit it names.
      const want = advertisement.refs.get(`${TAG_PREFIX}${tag.name}`) ?? tag.commit;
      if (!(await hasObject(store, tag.commit)))
        await fetchPack(store, remote, { want, have }, timeoutMs, advertisement);
      present.add(tag.commit);
    }
    return advertisement.tags;
  } catch (error) {
    throw fetchFailure(error, store.display, 'tags', TAG_PREFIX);
  }
}
