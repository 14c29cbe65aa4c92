import { readFileSync } from 'node:fs';
import type { AuthCallback } from 'isomorphic-git';
import { SettingError } from '../../core/index.js';

/** What a git server is asked with (HTTP Basic): a token is the password, as git hosts take it. */
export interface GitCredentials {
  readonly username: string;
  readonly password: string;
}

/** Where they come from, most specific first: a credential file, then a token, then the URL itself. */
export interface GitCredentialSources {
  /** A file in git's credential-store format (`git help credential-store`). */
  readonly file?: string;
  /** A token; the user name is the URL's, else `x-access-token` (which GitHub, Gitea and GitLab accept). */
  readonly token?: string;
}

/** The user name sent with a bare token when the URL names none. */
export const TOKEN_USERNAME = 'x-access-token';

/**
 * The credentials for the repository at `url`: the first line of the credential file whose scheme,
 * host and port are the URL's (and path, when the line has one), as git's `store` helper matches; or
 * the token. Undefined when neither is given: credentials in the URL itself are used as they are.
 */
export function resolveGitCredentials(
  url: string,
  sources: GitCredentialSources,
): GitCredentials | undefined {
  if (sources.file !== undefined) return fromCredentialFile(url, sources.file);
  if (sources.token !== undefined) {
    const username = parseUrl(url)?.username;
    return { username: username ? decodeURIComponent(username) : TOKEN_USERNAME, password: sources.token };
  }
  return undefined;
}

/**
 * isomorphic-git asks `onAuth` when the server answers 401, as git asks its credential helper; a
 * second 401 goes to `onAuthFailure`, which this leaves unset, so a wrong token ends in one HTTP 401
 * error instead of a loop.
 */
export function authCallback(credentials: GitCredentials): AuthCallback {
  return () => ({ username: credentials.username, password: credentials.password });
}

function fromCredentialFile(url: string, file: string): GitCredentials {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SettingError(
      '--git-credentials-file',
      `--git-credentials-file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give the path of a file of lines like https://user:token@git.example.com`,
    );
  }
  const wanted = parseUrl(url);
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  for (const [index, line] of lines.entries()) {
    const entry = parseUrl(line.trim());
    // Never echo the line: it holds a password.
    if (!entry?.username)
      throw new SettingError(
        '--git-credentials-file',
        `--git-credentials-file ${file}: entry ${index + 1} is not a URL with credentials; each line is https://user:token@host[/path], as git credential-store writes it`,
      );
    if (!wanted || !sameServer(entry, wanted)) continue;
    return { username: decodeURIComponent(entry.username), password: decodeURIComponent(entry.password) };
  }
  throw new SettingError(
    '--git-credentials-file',
    `--git-credentials-file ${file} has no line for ${wanted ? `${wanted.protocol}//${wanted.host}` : 'the repository'}: add https://user:token@${wanted?.host ?? 'host'}`,
  );
}

/** Scheme, host and port must be equal; a path on the entry must be the repository's (git's `useHttpPath`). */
function sameServer(entry: URL, wanted: URL): boolean {
  if (entry.protocol !== wanted.protocol || entry.host !== wanted.host) return false;
  const path = entry.pathname.replace(/\/+$/, '');
  return path === '' || path === wanted.pathname.replace(/\/+$/, '');
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
