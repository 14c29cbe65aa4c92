import { type DiscoverOptions, ServiceDiscovery } from './service-discovery.js';

/**
 * The live instances of a service in an environment, with weights from the service tree, and pickers
 * that follow them:
 *
 * ```ts
 * const recommenders = await discover({ zk: 'zk1:2181', service: 'recommender', env: 'prod' });
 * const picker = recommenders.picker(); // the service tree's strategy: consistent-hash for recommender/prod
 * const target = picker.pick(userId);
 * ```
 */
export async function discover(options: DiscoverOptions): Promise<ServiceDiscovery> {
  return new ServiceDiscovery(options).start();
}
