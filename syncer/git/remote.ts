import type { AuthCallback } from 'isomorphic-git';

/**
 * A repository fetched over HTTP(S): its URL, and what answers the server's request for credentials
 * (isomorphic-git calls it on a 401, as git calls its credential helper). Credentials stay out of
 * the URL whenever they came from a file or a token.
 */
export interface Remote {
  readonly url: string;
  readonly onAuth?: AuthCallback;
}
