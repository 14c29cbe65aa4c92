import fs from 'node:fs';
import git from 'isomorphic-git';
import { BranchNotFoundError, GitUnreachableError } from './errors.js';
import { fetchPack } from './fetch-pack.js';
import { gitErrorCode } from './git-error-code.js';
import { hasObject } from './object-reader.js';
import type { ObjectStore } from './object-store.js';
import type { RefAdvertisement } from './ref-advertisement.js';
import type { Remote } from './remote.js';

const REMOTE = 'origin';

/**
 * Makes `gitdir` a bare repository that says where it is fetched from (for a person inspecting it:
 * `displayUrl`, without credentials, which stay out of files; fetches pass the URL themselves).
 * A no-op on a repository made before (a restart): what earlier fetches brought is kept.
 */
export async function prepareFetchCache(gitdir: string, displayUrl: string, branch: string): Promise<void> {
  await git.init({ fs, gitdir, bare: true, defaultBranch: branch });
  const settings: [path: string, value: string][] = [
    [`remote.${REMOTE}.url`, displayUrl],
    [`remote.${REMOTE}.fetch`, `+refs/heads/${branch}:refs/remotes/${REMOTE}/${branch}`],
  ];
  // The config is rewritten in place: left alone when it already says this (a restart), it is never
  // half-written while a restart reads the clone ahead of its fetch.
  for (const [path, value] of settings) {
    if ((await git.getConfig({ fs, gitdir, path })) !== value)
      await git.setConfig({ fs, gitdir, path, value });
  }
}

/** The local ref that holds the last fetched head of `branch`, offered to the server as a "have". */
export function localBranchRef(branch: string): { readonly remote: string; readonly ref: string } {
  return { remote: REMOTE, ref: `refs/remotes/${REMOTE}/${branch}` };
}

/** What the store is known to hold of the branch before a fetch, so that it need not be looked up. */
export interface FetchedHeads {
  /** The head the previous fetch brought (what the local ref names); undefined before the first. */
  readonly last: string | undefined;
  /** A commit fetched ahead by its id in this fetch (see prefetch-commit.ts): in the store with its history. */
  readonly ahead?: string | undefined;
}

/**
 * Brings the head of `branch`, as `advertisement` names it, into the store and resolves with it. The
 * whole history is fetched (ancestry decides whether a push was forced); the previously fetched head
 * is offered to the server as a commit the store has, so a fetch brings only what is new, and a
 * branch that did not move is not fetched at all. A head the store already holds (fetched ahead by
 * its id, or a branch reset to a commit fetched before) only moves the local ref: objects come in
 * whole packs, so a commit in the store comes with its history and trees.
 */
export async function fetchBranch(
  store: ObjectStore,
  remote: Remote,
  branch: string,
  timeoutMs: number,
  advertisement: RefAdvertisement,
  { last, ahead }: FetchedHeads,
): Promise<string> {
  const { display } = store;
  const remoteRef = `refs/heads/${branch}`;
  const localRef = localBranchRef(branch).ref;
  // A repository without any commit has no refs at all: the branch does not exist there either.
  const head = advertisement.refs.get(remoteRef);
  if (head === undefined) throw new BranchNotFoundError(branch, display);
  if (last === head) return head;
  if (head !== ahead && !(await hasObject(store, head))) {
    try {
      // The head fetched last is what the store has: the server sends only what is new since.
      await fetchPack(store, remote, { want: head, have: last }, timeoutMs, advertisement);
    } catch (error) {
      throw fetchFailure(error, display, branch, remoteRef);
    }
  }
  await git.writeRef({ fs: store.fs, gitdir: store.gitdir, ref: localRef, value: head, force: true });
  return head;
}

/** The head the last fetch of `branch` brought into `store`, read without the network; undefined before the first. */
export function lastFetchedHead(store: ObjectStore, branch: string): Promise<string | undefined> {
  return resolveLocalRef(store, localBranchRef(branch).ref);
}

/** The commit a local ref names, or undefined when there is no such ref yet (a first fetch). */
export async function resolveLocalRef(store: ObjectStore, ref: string): Promise<string | undefined> {
  try {
    return await git.resolveRef({ fs: store.fs, gitdir: store.gitdir, ref });
  } catch (error) {
    if (gitErrorCode(error) === 'NotFoundError') return undefined;
    throw error;
  }
}

export function fetchFailure(error: unknown, display: string, branch: string, remoteRef: string): unknown {
  if (error instanceof BranchNotFoundError || error instanceof GitUnreachableError) return error;
  const code = gitErrorCode(error);
  if (code === 'NotFoundError' && missingWhat(error) === remoteRef) {
    return new BranchNotFoundError(branch, display, { cause: error });
  }
  const reason = unreachableReason(code, error);
  return reason === undefined ? error : new GitUnreachableError(display, reason, { cause: error });
}

/** Why the server could not be used, for the failures that mean it; undefined for any other failure. */
function unreachableReason(code: string | undefined, error: unknown): string | undefined {
  switch (code) {
    case 'HttpError': {
      const { statusCode, statusMessage } = errorData(error);
      const answered =
        `the server answered HTTP ${String(statusCode)} ${String(statusMessage ?? '')}`.trimEnd();
      return statusCode === 401 || statusCode === 403
        ? `${answered}: give credentials that may read it with --git-credentials-file or CAIRN_GIT_TOKEN`
        : answered;
    }
    case 'SmartHttpError':
      return 'the server does not speak git smart HTTP: is this the URL of a git repository?';
    case 'EmptyServerResponseError':
      return 'the server sent an empty answer';
    case 'ParseError':
      return 'the answer of the server could not be parsed';
    case 'UrlParseError':
      return 'the URL cannot be parsed';
    case 'PackIndexError':
      return `the pack the server sent could not be indexed (${error instanceof Error ? error.message : String(error)})`;
    case undefined:
      return undefined;
  }
  if (NETWORK_ERROR_CODES.has(code) || /^HPE_|CERT|^ERR_TLS_|^ERR_SSL_/.test(code)) {
    return `${code} (${error instanceof Error ? error.message : String(error)})`;
  }
  return undefined;
}

/** Node's codes for a connection that could not be made or was lost (HTTP parser and TLS codes are matched by pattern). */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_FAIL',
  'ABORT_ERR',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

function errorData(error: unknown): { statusCode?: unknown; statusMessage?: unknown; what?: unknown } {
  if (typeof error !== 'object' || error === null || !('data' in error)) return {};
  const { data } = error;
  return typeof data === 'object' && data !== null ? data : {};
}

function missingWhat(error: unknown): unknown {
  return errorData(error).what;
}
