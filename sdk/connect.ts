import type { ConnectOptions } from './connect-options.js';
import { ServiceConfig } from './service-config.js';

/**
 * Connects a service to its configuration in one environment and resolves once it has one to serve
 * (see ServiceConfig.start for when it rejects).
 *
 * ```ts
 * const cfg = await connect({ zk: 'zk1:2181', service: 'recommender', env: 'prod', cacheDir: '/var/cache/recommender' });
 * const settings = cfg.get('application.yaml');
 * cfg.watch('application.yaml', (value, change) => reload(value, change.commit));
 * ```
 */
export async function connect(options: ConnectOptions): Promise<ServiceConfig> {
  const config = new ServiceConfig(options);
  await config.start();
  return config;
}
