/**
 * A recommender service that takes its settings from Cairn and reloads them live, without a restart.
 *
 *   CAIRN_ZK=127.0.0.1:2181 CAIRN_ENV=dev PORT=8080 npx tsx sdk/examples/recommender-service.ts
 *   (it listens on loopback only; HOST=0.0.0.0 serves beyond this machine)
 *   curl 127.0.0.1:8080/recommendations?user=42     # ranked with the current settings
 *   curl 127.0.0.1:8080/config                      # which commit it runs, and where it came from
 *
 * In a service of your own, import from the package: `import { connect } from '@cairn-config/sdk'`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino, { type Logger } from 'pino';
import { type ConfigChange, connect, type ServiceConfig } from '../index.js';

/** The part of application.yaml this service uses. */
interface Application {
  readonly ranking: { readonly model: string; readonly maxResults: number };
  readonly logging: { readonly level: string };
}

interface Blocklist {
  readonly titles?: readonly { readonly id: string }[];
}

/** Everything a request needs, built from one commit and swapped in one assignment. */
interface Settings {
  readonly commit: string;
  readonly model: string;
  readonly maxResults: number;
  readonly blocked: ReadonlySet<string>;
}

/** A commit that would break ranking never reaches the service: the last good settings stay. */
const APPLICATION_SCHEMA = {
  type: 'object',
  required: ['ranking'],
  properties: {
    ranking: {
      type: 'object',
      required: ['model', 'maxResults'],
      properties: {
        model: { type: 'string', minLength: 1 },
        maxResults: { type: 'integer', minimum: 1, maximum: 100 },
      },
    },
  },
};

const CATALOGUE = Array.from(
  { length: 500 },
  (_, i) => `tt-${String(1_000_000 + i * 7919).padStart(7, '0')}`,
);

export interface RecommenderOptions {
  readonly zk: string;
  /** The root znode (default /cairn). */
  readonly root?: string;
  readonly env: string;
  readonly port: number;
  /** The address to listen on: loopback by default, so a demo is not reachable from the network. */
  readonly host?: string;
  readonly cacheDir: string;
  /** Where the service logs; without one it makes its own, whose level application.yaml sets. */
  readonly logger?: Logger;
}

export interface RunningRecommender {
  readonly url: string;
  readonly config: ServiceConfig;
  close(): Promise<void>;
}

export async function startRecommender(options: RecommenderOptions): Promise<RunningRecommender> {
  const logger = options.logger ?? pino({ level: process.env.LOG_LEVEL ?? 'info' });
  const config = await connect({
    zk: options.zk,
    ...(options.root !== undefined ? { root: options.root } : {}),
    service: 'recommender',
    env: options.env,
    cacheDir: options.cacheDir,
    instance: { port: options.port === 0 ? undefined : options.port },
    validate: { 'application.yaml': APPLICATION_SCHEMA },
    logger,
  });
  let settings = settingsOf(config);

  // One callback per commit, with every file it changed: rebuild the settings from that commit alone.
  config.on('change', (change: ConfigChange) => {
    settings = settingsOf(config);
    logger.info(
      { commit: change.commit, author: change.author.name, files: change.files.map((f) => f.file) },
      `settings reloaded: ${change.message.split('\n', 1)[0]}`,
    );
  });
  config.on('rejected', (rejected) =>
    logger.warn({ commit: rejected.commit, failures: rejected.failures }, 'commit refused: keeping settings'),
  );
  // A logger given by whoever runs the service keeps the level its owner chose.
  if (!options.logger)
    config.watch<Application>('application.yaml', (app) => {
      if (app) logger.level = app.logging.level;
    });

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const current = settings; // one request sees one commit, whatever lands meanwhile
    let body: unknown;
    if (url.pathname === '/recommendations') {
      body = { user: url.searchParams.get('user'), model: current.model, titles: recommend(current) };
    } else if (url.pathname === '/config') {
      body = { commit: current.commit, source: config.source, connection: config.connection };
    } else {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const { port, address, family } = server.address() as AddressInfo;
  const url = `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  logger.info({ url, commit: settings.commit, source: config.source }, 'recommender listening');

  return {
    url,
    config,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await config.close();
    },
  };
}

function settingsOf(config: ServiceConfig): Settings {
  const app = config.get<Application>('application.yaml');
  const blocklist = config.has('rules/blocklist.yaml') ? config.get<Blocklist>('rules/blocklist.yaml') : {};
  return {
    commit: config.commit ?? '',
    model: app.ranking.model,
    maxResults: app.ranking.maxResults,
    blocked: new Set((blocklist.titles ?? []).map((title) => title.id)),
  };
}

function recommend(settings: Settings): string[] {
  return CATALOGUE.filter((id) => !settings.blocked.has(id)).slice(0, settings.maxResults);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const running = await startRecommender({
    zk: process.env.CAIRN_ZK ?? '127.0.0.1:2181',
    env: process.env.CAIRN_ENV ?? 'dev',
    port: Number(process.env.PORT ?? 8080),
    ...(process.env.HOST ? { host: process.env.HOST } : {}),
    cacheDir: process.env.CAIRN_CACHE_DIR ?? join(tmpdir(), 'recommender-config-cache'),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => void running.close().then(() => process.exit(0)));
}
