import { fetchPack } from './fetch-pack.js';
import { hasObject } from './object-reader.js';
import type { ObjectStore } from './object-store.js';
import type { RefAdvertisement } from './ref-advertisement.js';
import type { Remote } from './remote.js';

const OBJECT_ID = /^[0-9a-f]{40}$/;

/**
 * Whether `commit` looks like an object id worth asking a server for: a push webhook's `after` is
 * all zeros when the branch was deleted, and anything else is ignored rather than sent.
 */
export function isPrefetchable(commit: string): boolean {
  return OBJECT_ID.test(commit) && !/^0+$/.test(commit);
}

/**
 * Fetches the objects of `commit` by its id alone, against `previous` (the last listing, whose
 * capabilities the negotiation needs), offering `have` (the branch head the last fetch brought) as
 * what the store has: one `upload-pack` request, sent as the refs are listed anew, so a push a
 * webhook announced costs the longer of the two requests rather than both. A commit the store holds
 * already is not asked for. It moves no ref: only the listing that follows decides what the
 * branch's head is, so an announcement that is stale, or names a commit of another branch, brings
 * objects and changes nothing.
 * Resolves whether the commit's objects are in the store now. Never rejects: a
 * commit the server will not send (unknown, unreachable) only loses the head start, and the
 * listing's fetch follows as without it.
 */
export async function prefetchCommit(
  store: ObjectStore,
  remote: Remote,
  commit: string,
  have: string | undefined,
  timeoutMs: number,
  previous: RefAdvertisement,
): Promise<boolean> {
  try {
    if (await hasObject(store, commit)) return true;
    await fetchPack(store, remote, { want: commit, have }, timeoutMs, previous);
    return true;
  } catch {
    // Why the server refused the id does not matter: the listing, already under way, decides.
    return false;
  }
}
