import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SettingError } from '../core/index.js';

export interface HttpRoutes {
  /** `POST /webhook`: reads (or refuses) the body itself, with its own limits. */
  webhook(request: IncomingMessage, response: ServerResponse): Promise<void>;
  health(): { status: number; body: unknown };
  metrics(): Promise<{ contentType: string; body: string }>;
  /**
   * Another part's pages under the same address (the dashboard, which the CLI composes in): answers
   * a request and returns true, or returns false to leave it to the syncer's routes.
   */
  extension?: HttpExtension;
}

/** Requests the syncer's server hands to another part first; `close` ends its open streams. */
export interface HttpExtension {
  handle(request: IncomingMessage, response: ServerResponse): Promise<boolean>;
  close(): Promise<void>;
}

/** The syncer's HTTP face: `POST /webhook`, `GET /healthz`, `GET /metrics`. */
export async function startHttpServer(
  host: string,
  port: number,
  routes: HttpRoutes,
): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((request, response) => {
    handle(routes, request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: (error as Error).message });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    const refused = (error: NodeJS.ErrnoException) => reject(listenError(host, port, error));
    server.once('error', refused);
    server.listen(port, host, () => {
      server.off('error', refused);
      resolve();
    });
  });
  return { server, address: server.address() as AddressInfo };
}

/** Binds `host:port` and lets it go at once: whether the syncer could listen there, as its error. */
export async function probeListen(host: string, port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(host, port, error)));
    server.listen(port, host, () => server.close(() => resolve()));
  });
}

/** A port in use or not ours to bind is the user's to fix: say which, and how. */
export function listenError(host: string, port: number, error: NodeJS.ErrnoException): Error {
  if (error.code === 'EADDRINUSE')
    return new SettingError(
      '--listen',
      `--listen ${host}:${port}: the port is in use by another process; stop it, or pass --listen with another port (0 picks a free one)`,
    );
  if (error.code === 'EACCES')
    return new SettingError(
      '--listen',
      `--listen ${host}:${port}: this user may not listen on port ${port} (ports below 1024 need privileges); pass --listen with a port of 1024 or more`,
    );
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
    return new SettingError(
      '--listen',
      `--listen ${host}:${port}: ${host} is not an address of this machine; pass 127.0.0.1, 0.0.0.0 or one of its own addresses`,
    );
  return error;
}

async function handle(routes: HttpRoutes, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '/').split('?', 1)[0];
  if (path !== '/webhook' && routes.extension && (await routes.extension.handle(request, response))) return;
  if (path === '/webhook') {
    if (request.method !== 'POST') return sendJson(response, 405, { error: 'use POST' });
    return routes.webhook(request, response);
  }
  if (path === '/healthz' && request.method === 'GET') {
    const result = routes.health();
    return sendJson(response, result.status, result.body);
  }
  if (path === '/metrics' && request.method === 'GET') {
    const metrics = await routes.metrics();
    response.writeHead(200, { 'content-type': metrics.contentType });
    response.end(metrics.body);
    return;
  }
  sendJson(response, 404, {
    error: `not found: try POST /webhook, GET /healthz or GET /metrics${routes.extension ? ', or GET / for the dashboard' : ''}`,
  });
}

/** A JSON answer, one line. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify(body)}\n`);
}
