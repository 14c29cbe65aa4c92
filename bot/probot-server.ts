import { type ApplicationFunction, type Logger, Probot, Server } from 'probot';
import { type GuardRefusal, guardWebhooks } from './webhook-guard.js';

const DEFAULT_WEBHOOK_PATH = '/api/github/webhooks';

/**
 * Probot's server for `appFn`, configured from the environment as Probot's own `run()` reads it
 * (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, PORT, HOST, WEBHOOK_PATH, WEBHOOK_PROXY_URL, GHE_HOST,
 * GHE_PROTOCOL, REDIS_URL), with limits on its webhook path (guardWebhooks). `run()` keeps its HTTP
 * server to itself; the Server it is built on returns it from start().
 */
export async function startProbotServer(
  appFn: ApplicationFunction,
  options: {
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly log: Logger;
    readonly onRefused?: (reason: GuardRefusal) => void;
  },
): Promise<Server> {
  const { env, log } = options;
  const webhookPath = env.WEBHOOK_PATH || DEFAULT_WEBHOOK_PATH;
  const server = new Server({
    host: env.HOST || 'localhost',
    port: Number(env.PORT) || 3000,
    webhookPath,
    ...(env.WEBHOOK_PROXY_URL ? { webhookProxy: env.WEBHOOK_PROXY_URL } : {}),
    log,
    Probot: Probot.defaults({
      appId: Number(env.APP_ID),
      ...(env.PRIVATE_KEY ? { privateKey: env.PRIVATE_KEY } : {}),
      ...(env.WEBHOOK_SECRET ? { secret: env.WEBHOOK_SECRET } : {}),
      ...(env.REDIS_URL ? { redisConfig: env.REDIS_URL } : {}),
      baseUrl: env.GHE_HOST
        ? `${env.GHE_PROTOCOL || 'https'}://${env.GHE_HOST}/api/v3`
        : 'https://api.github.com',
      log,
    }),
  });
  await server.load(appFn);
  // Guarded in the tick it starts listening: no request is handled before.
  guardWebhooks(await server.start(), webhookPath, options.onRefused ? { onRefused: options.onRefused } : {});
  return server;
}
