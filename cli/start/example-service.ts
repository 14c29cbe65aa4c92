import type { Logger } from 'pino';
import { findFreePorts } from '../../local/index.js';
import { startRecommender } from '../../sdk/examples/recommender-service.js';

/** The SDK's example service as cairn start runs it: which service, in which environment, where. */
export interface ExampleService {
  readonly service: string;
  readonly env: string;
  readonly url: string;
  close(): Promise<void>;
}

/** The service the SDK's example (sdk/examples/recommender-service.ts) is written for. */
export const EXAMPLE_SERVICE = 'recommender';

/**
 * Runs the SDK's example service in this process, registered as an instance of `recommender` in
 * `env`, on a free loopback port (so its instance node names the port it serves on).
 */
export async function startExampleService(
  logger: Logger,
  options: { readonly zk: string; readonly root: string; readonly env: string; readonly cacheDir: string },
): Promise<ExampleService> {
  const [port] = await findFreePorts(1);
  const running = await startRecommender({
    zk: options.zk,
    root: options.root,
    env: options.env,
    port: port as number,
    cacheDir: options.cacheDir,
    logger,
  });
  return { service: EXAMPLE_SERVICE, env: options.env, url: running.url, close: () => running.close() };
}
