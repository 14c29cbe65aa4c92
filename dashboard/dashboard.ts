import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { CairnError, errorLogFields, SessionKeeper, type ZooKeeperEndpoint } from '../core/index.js';
import { ChangeFeed } from './change-feed.js';
import { DashboardRequestError } from './errors.js';
import { OverviewCache } from './overview-cache.js';
import {
  readCommitChanges,
  readContent,
  readDeploymentView,
  readFileContent,
  readFileDiff,
  readFilePage,
  readHistoryPage,
} from './read-model.js';
import { StaticFiles } from './static-files.js';

export interface DashboardOptions {
  readonly endpoint: ZooKeeperEndpoint;
  readonly logger: Logger;
}

/** Nothing the page shows runs as code: scripts only from this server, no inline ones. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The read-only dashboard: `GET /` (the page), `GET /api/…` (JSON) and `GET /api/events` (one
 * server-sent-event stream per tab). It reads ZooKeeper on a session of its own, so a slow page
 * never delays the syncer's writes; the syncer's HTTP server hands it every request first.
 */
export class Dashboard {
  private readonly keeper: SessionKeeper;
  private readonly feed: ChangeFeed;
  private readonly files = new StaticFiles();
  private readonly overview = new OverviewCache(() => this.feed.watching);
  private readonly logger: Logger;
  private readonly endpoint: ZooKeeperEndpoint;

  constructor(options: DashboardOptions) {
    this.endpoint = options.endpoint;
    this.logger = options.logger.child({ part: 'dashboard' });
    this.keeper = new SessionKeeper({ endpoint: options.endpoint });
    this.feed = new ChangeFeed(this.keeper, options.endpoint.layout, this.logger, () =>
      this.overview.invalidate(),
    );
  }

  start(): void {
    this.keeper.start();
  }

  /** Event streams open now: one per visible tab. */
  get openStreams(): number {
    return this.feed.openStreams;
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
    const url = new URL(request.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    const page = await this.files.get(path);
    if (!page && !path.startsWith('/api/')) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      sendJson(response, 405, { error: 'the dashboard is read-only: use GET' });
      return true;
    }
    if (page) {
      response.writeHead(200, {
        'content-type': page.type,
        'cache-control': 'no-cache',
        ...SECURITY_HEADERS,
      });
      response.end(request.method === 'HEAD' ? undefined : page.body);
      return true;
    }
    if (path === '/api/events') {
      this.feed.open(response);
      return true;
    }
    const session = this.keeper.session;
    if (!session || !this.keeper.connected) {
      sendJson(response, 503, {
        error: `not connected to ZooKeeper at ${this.endpoint.connectString} yet; retrying`,
      });
      return true;
    }
    const layout = this.endpoint.layout;
    const query = url.searchParams;
    try {
      const body = await (async () => {
        switch (path) {
          case '/api/overview':
            return this.overview.get(session, layout);
          case '/api/history':
            return readHistoryPage(session, layout, count(query, 'limit', 50));
          case '/api/files':
            return readFilePage(session, layout, required(query, 'service'), required(query, 'env'), {
              offset: count(query, 'offset', 0),
              limit: count(query, 'limit', 200),
              ...(query.get('filter') ? { filter: query.get('filter') as string } : {}),
            });
          case '/api/file':
            return readFileContent(
              session,
              layout,
              required(query, 'service'),
              required(query, 'env'),
              required(query, 'path'),
            );
          case '/api/changes':
            return readCommitChanges(session, layout, count(query, 'seq', -1, true));
          case '/api/content':
            return readContent(session, layout, required(query, 'id'));
          case '/api/diff':
            return readFileDiff(session, layout, required(query, 'from'), required(query, 'to'));
          case '/api/deployment':
            return readDeploymentView(session, layout, {
              service: required(query, 'service'),
              env: required(query, 'env'),
              id: required(query, 'id'),
            });
          default:
            return undefined;
        }
      })();
      if (body === undefined)
        sendJson(response, 404, {
          error: `no ${path}: the dashboard serves /api/overview, /api/history, /api/changes, /api/files, /api/file, /api/content, /api/diff, /api/deployment and /api/events`,
        });
      else sendJson(response, 200, body);
    } catch (error) {
      const code = error instanceof CairnError ? error.code : 'UNEXPECTED';
      const status = code === 'BAD_REQUEST' ? 400 : code === 'NOT_FOUND' ? 404 : 500;
      if (status === 500)
        this.logger.warn(errorLogFields(error), `dashboard ${path} failed: ${(error as Error).message}`);
      sendJson(response, status, { error: (error as Error).message, code });
    }
    return true;
  }

  async close(): Promise<void> {
    await this.feed.close();
    await this.keeper.close();
  }
}

function required(query: URLSearchParams, name: string): string {
  const value = query.get(name);
  if (!value) throw new DashboardRequestError(`missing query parameter ${name}`);
  return value;
}

function count(query: URLSearchParams, name: string, fallback: number, mandatory = false): number {
  const value = query.get(name);
  if (value === null && mandatory) throw new DashboardRequestError(`missing query parameter ${name}`);
  if (value === null) return fallback;
  if (!/^\d{1,6}$/.test(value))
    throw new DashboardRequestError(`${name} must be a whole number, not ${JSON.stringify(value)}`);
  return Number(value);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
  });
  response.end(`${JSON.stringify(body)}\n`);
}
