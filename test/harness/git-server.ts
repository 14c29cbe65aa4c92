import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { createTempDir, killOnExit, LocalServerError, removeTempDir } from '../../local/index.js';
import { isolatedGitEnv, runGit } from './git-command.js';
import { listenOnLoopback } from './listen-on-loopback.js';

/** A git smart-HTTP server: the real `git http-backend` behind a Node HTTP server on a loopback port. */
export interface GitServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** `${baseUrl}/${repo}.git`: the URL to clone, fetch or push `repo`. */
  url(repo: string): string;
  /** Directory holding the bare repositories, as `<repo>.git` (see `createBareRepo`). */
  readonly root: string;
  /** Requests received so far, answered or refused, so a test can prove that fetches coalesce. */
  requests(): number;
  /** When false, every request is answered 503, as from a git host that is down or failing. */
  setAvailable(available: boolean): void;
  /** Stops serving, ends open connections and removes `root`. Safe to call more than once. */
  close(): Promise<void>;
}

/** Bytes of CGI headers we accept before calling the backend's answer malformed. */
const MAX_CGI_HEADER_BYTES = 64 * 1024;

export interface GitServerOptions {
  /**
   * When given, every request must carry these in HTTP Basic authentication, as on a private git
   * host: anything else is answered 401 with `WWW-Authenticate`, which is what makes git (and
   * isomorphic-git's `onAuth`) ask for credentials.
   */
  readonly credentials?: { readonly username: string; readonly password: string };
  /** Called on every request received, before it is answered. */
  readonly onRequest?: () => void;
}

/** Starts a git server whose repositories live in a fresh temp dir; it serves pushes as well as fetches. */
export async function startGitServer(options: GitServerOptions = {}): Promise<GitServer> {
  const backend = join(await runGit(process.cwd(), ['--exec-path']), 'git-http-backend');
  if (!existsSync(backend)) {
    throw new LocalServerError(
      'GIT_NOT_FOUND',
      `${backend} is missing: install git (scripts/install-system-deps.sh does).`,
    );
  }
  const root = await createTempDir('cairn-git-server-');
  const running = new Set<ChildProcess>();
  let available = true;
  let received = 0;

  const server = createServer((request, response) => {
    received++;
    options.onRequest?.();
    if (!available) {
      request.resume();
      response.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      response.end('git server unavailable\n');
      return;
    }
    if (options.credentials && !authorized(request.headers.authorization, options.credentials)) {
      request.resume();
      response.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="git"' });
      response.end('authentication required\n');
      return;
    }
    serveWithBackend(backend, root, request, response, running);
  });
  const baseUrl = await listenOnLoopback(server);

  let closing: Promise<void> | undefined;
  return {
    baseUrl,
    root,
    url: (repo) => `${baseUrl}/${repo}.git`,
    requests: () => received,
    setAvailable: (value) => {
      available = value;
    },
    close: () => {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        // git keeps connections alive; without this, close() would wait for their idle timeout.
        server.closeAllConnections();
        for (const child of running) child.kill('SIGKILL');
        await closed;
        await removeTempDir(root);
      })();
      return closing;
    },
  };
}

/** Runs one request through `git http-backend` as a CGI script, as Apache or nginx+fcgiwrap would. */
function serveWithBackend(
  backend: string,
  root: string,
  request: IncomingMessage,
  response: ServerResponse,
  running: Set<ChildProcess>,
): void {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  let pathInfo: string;
  try {
    pathInfo = decodeURIComponent(url.pathname);
  } catch {
    response.writeHead(400, { 'content-type': 'text/plain' }).end('malformed URL path\n');
    return;
  }
  const child = spawn(backend, [], {
    env: cgiEnv(root, pathInfo, url, request),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  killOnExit(child);
  const stderr: Buffer[] = [];
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  // The backend may answer (an error, a refused service) without reading the body: EPIPE is expected then.
  child.stdin.on('error', () => undefined);
  request.pipe(child.stdin);
  // A client that hangs up must not leave a git process behind.
  response.on('close', () => {
    if (!response.writableFinished && child.exitCode === null && child.signalCode === null)
      child.kill('SIGKILL');
  });

  let head = Buffer.alloc(0);
  let headersSent = false;
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = findHeaderEnd(head);
    if (!end) {
      if (head.length > MAX_CGI_HEADER_BYTES) child.kill('SIGKILL');
      return;
    }
    child.stdout.off('data', onData);
    headersSent = true;
    const { status, headers } = parseCgiHeaders(head.subarray(0, end.start).toString('latin1'));
    response.writeHead(status, headers);
    response.write(head.subarray(end.start + end.length));
    child.stdout.pipe(response);
  };
  child.stdout.on('data', onData);

  child.once('error', (error) => {
    running.delete(child);
    if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
    response.end(`git http-backend could not be started: ${error.message}\n`);
  });
  child.once('close', (code, signal) => {
    running.delete(child);
    if (headersSent) return;
    // No complete CGI answer: say why, with the backend's own words.
    const reason = Buffer.concat(stderr).toString('utf8').trim() || `exit code ${code ?? signal}`;
    if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
    response.end(`git http-backend gave no valid answer: ${reason}\n`);
  });
}

/** The CGI/1.1 meta-variables `git http-backend` reads (see git-http-backend(1)). */
function cgiEnv(root: string, pathInfo: string, url: URL, request: IncomingMessage): NodeJS.ProcessEnv {
  const vars: Record<string, string> = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${request.httpVersion}`,
    SERVER_SOFTWARE: 'cairn-test-git-server',
    REQUEST_METHOD: request.method ?? 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: pathInfo,
    QUERY_STRING: url.search.slice(1),
    REMOTE_ADDR: request.socket.remoteAddress ?? '127.0.0.1',
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    // Pushes without authentication, also to repositories not made by createBareRepo (which sets
    // http.receivepack in each repository's config as well). The backend refuses them otherwise.
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: 'http.receivepack',
    GIT_CONFIG_VALUE_0: 'true',
  };
  const { headers } = request;
  if (headers['content-type']) vars.CONTENT_TYPE = headers['content-type'];
  // Absent for chunked bodies (git pushes bigger than http.postBuffer): the backend then reads to EOF.
  if (headers['content-length']) vars.CONTENT_LENGTH = headers['content-length'];
  // git gzips large fetch negotiations; the backend inflates them only when told.
  if (headers['content-encoding']) vars.HTTP_CONTENT_ENCODING = headers['content-encoding'];
  // Protocol v2 is negotiated through this header; without it every client falls back to v0.
  const gitProtocol = headers['git-protocol'];
  if (typeof gitProtocol === 'string') vars.GIT_PROTOCOL = gitProtocol;
  const user = basicAuthUser(headers.authorization);
  if (user) vars.REMOTE_USER = user;
  return isolatedGitEnv(vars);
}

/** The user name of a Basic `Authorization` header; passwords are not checked, only recorded as REMOTE_USER. */
function basicAuthUser(authorization: string | undefined): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return (colon === -1 ? decoded : decoded.slice(0, colon)) || undefined;
}

function authorized(
  authorization: string | undefined,
  expected: { readonly username: string; readonly password: string },
): boolean {
  const match = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return false;
  return Buffer.from(match[1], 'base64').toString('utf8') === `${expected.username}:${expected.password}`;
}

/** Where CGI headers end: a blank line, CRLF or bare LF (CGI allows both). */
function findHeaderEnd(buffer: Buffer): { start: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return undefined;
  if (lf === -1 || (crlf !== -1 && crlf < lf)) return { start: crlf, length: 4 };
  return { start: lf, length: 2 };
}

function parseCgiHeaders(text: string): { status: number; headers: OutgoingHttpHeaders } {
  let status = 200;
  const headers: Record<string, string | string[]> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'status') {
      status = Number.parseInt(value, 10) || 500;
      continue;
    }
    const previous = headers[name];
    headers[name] =
      previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return { status, headers };
}
