import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsupportedGitUrlError } from './errors.js';

/**
 * Where a git source reads from: a repository served over smart HTTP(S), fetched into a local
 * cache; or a repository on this machine, read in place. `display` is what messages and logs show:
 * the URL without credentials, so a token in `https://user:token@host/…` is never printed.
 */
export type SourceLocation =
  | { readonly kind: 'remote'; readonly url: string; readonly display: string }
  | { readonly kind: 'local'; readonly path: string; readonly display: string };

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
/** `git@github.com:org/repo.git`: the scp-like syntax of ssh remotes. */
const SCP_LIKE = /^[^/\s]+@[^/\s]+:/;

export function sourceLocation(url: string): SourceLocation {
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'http' || scheme === 'https')
    return { kind: 'remote', url, display: withoutCredentials(url) };
  if (scheme === 'file') {
    const path = fileURLToPath(url);
    return { kind: 'local', path, display: path };
  }
  if (scheme !== undefined || SCP_LIKE.test(url)) throw new UnsupportedGitUrlError(withoutCredentials(url));
  const path = resolve(url);
  return { kind: 'local', path, display: path };
}

/** `url` without its `user:password@` part: what is shown, logged, or named after it. */
export function withoutCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not parseable as a URL: there is no userinfo part to find, and it is shown as given.
    return url.replace(/\/\/[^/@]*@/, '//');
  }
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}
