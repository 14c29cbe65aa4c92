import git, { type GitHttpRequest, type GitHttpResponse, type HttpClient } from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import type { TagRef } from '../../core/index.js';
import { withDeadline } from './deadline.js';
import { GitUnreachableError } from './errors.js';
import { readPackets } from './pkt-line.js';
import type { Remote } from './remote.js';

const TAG_PREFIX = 'refs/tags/';
const PEELED_SUFFIX = '^{}';

/**
 * What the server said its refs were in ONE ref discovery (`GET info/refs`, protocol v0/v1, which
 * lists the branches, the tags, peeled, and the notes in a single answer), what its `upload-pack`
 * offers, and the HTTP client for the `upload-pack` requests that follow (`fetch-pack.ts`): fetching
 * a ref that moved costs one request, a ref that did not move none. A sync in which only the branch
 * moved is two requests, a poll that finds nothing new is one.
 */
export interface RefAdvertisement {
  /** The object each ref names (tags: the tag object itself; see `tags` for the commits). */
  readonly refs: ReadonlyMap<string, string>;
  /** Every tag with the commit it points at (the server peels annotated tags). */
  readonly tags: readonly TagRef[];
  /** What the server's `upload-pack` offers (`side-band-64k`, `thin-pack`, …), from the same answer. */
  readonly capabilities: ReadonlySet<string>;
  /** An HTTP client for requests to this remote, aborted with `signal`, sending the credentials the listing was let in with. */
  http(signal: AbortSignal): HttpClient;
}

/** Reads the server's refs in one request, within `timeoutMs`. Errors are isomorphic-git's, for the caller to translate. */
export async function readRefAdvertisement(
  remote: Remote,
  display: string,
  timeoutMs: number,
): Promise<RefAdvertisement> {
  const discovery = new RecordedDiscovery();
  const listed = await withDeadline(
    timeoutMs,
    (signal) =>
      git.listServerRefs({
        http: discovery.client(signal),
        url: remote.url,
        ...(remote.onAuth ? { onAuth: remote.onAuth } : {}),
        protocolVersion: 1,
        peelTags: true,
      }),
    () => new GitUnreachableError(display, `no answer within ${timeoutMs} ms`),
  );
  const refs = new Map<string, string>();
  const tags: TagRef[] = [];
  for (const ref of listed) {
    if (ref.ref.endsWith(PEELED_SUFFIX)) continue;
    refs.set(ref.ref, ref.oid);
    if (ref.ref.startsWith(TAG_PREFIX))
      tags.push({ name: ref.ref.slice(TAG_PREFIX.length), commit: ref.peeled ?? ref.oid });
  }
  const capabilities = await discovery.capabilities();
  return { refs, tags, capabilities, http: (signal) => discovery.client(signal) };
}

/**
 * The answer to the first successful `GET …/info/refs?service=git-upload-pack`, kept for its
 * capabilities (and replayed to isomorphic-git, which read it). The credentials that discovery
 * needed (isomorphic-git asked `onAuth` after a 401) go with the later requests too: an `upload-pack`
 * POST would otherwise go without them.
 */
class RecordedDiscovery {
  #answer: { response: GitHttpResponse; body: readonly Uint8Array[] } | undefined;
  #authorization: string | undefined;

  /** The capabilities the answer lists after its first ref (protocol v0/v1); none before an answer. */
  async capabilities(): Promise<ReadonlySet<string>> {
    if (!this.#answer) return new Set();
    async function* body(chunks: readonly Uint8Array[]) {
      yield* chunks;
    }
    for await (const packet of readPackets(body(this.#answer.body))) {
      const nul = packet?.indexOf(0) ?? -1;
      if (packet && nul >= 0)
        return new Set(
          packet
            .toString('utf8', nul + 1)
            .trim()
            .split(' '),
        );
    }
    return new Set();
  }

  client(signal: AbortSignal): HttpClient {
    return { request: (request) => this.#request(request, signal) };
  }

  async #request(request: GitHttpRequest, signal: AbortSignal): Promise<GitHttpResponse> {
    if (!isDiscovery(request)) return http.request({ ...this.#authorized(request), signal });
    const response = await http.request({ ...request, signal });
    // Anything but a plain answer (a 401 asking for credentials, an error) goes to isomorphic-git as it is.
    if (response.statusCode !== 200) return response;
    this.#authorization = authorizationOf(request);
    const body: Uint8Array[] = [];
    if (response.body) for await (const chunk of response.body) body.push(chunk);
    this.#answer = { response, body };
    return replay(this.#answer);
  }

  /** The credentials that discovery was let in with replace any other (the URL's user name alone, say). */
  #authorized(request: GitHttpRequest): GitHttpRequest {
    if (this.#authorization === undefined) return request;
    const headers = Object.fromEntries(
      Object.entries(request.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'authorization'),
    );
    return { ...request, headers: { ...headers, Authorization: this.#authorization } };
  }
}

function authorizationOf(request: GitHttpRequest): string | undefined {
  const headers = request.headers ?? {};
  const name = Object.keys(headers).find((key) => key.toLowerCase() === 'authorization');
  return name === undefined ? undefined : headers[name];
}

function isDiscovery(request: GitHttpRequest): boolean {
  return (request.method ?? 'GET') === 'GET' && request.url.endsWith('/info/refs?service=git-upload-pack');
}

function replay(answer: { response: GitHttpResponse; body: readonly Uint8Array[] }): GitHttpResponse {
  async function* chunks() {
    yield* answer.body;
  }
  return { ...answer.response, body: chunks() };
}
