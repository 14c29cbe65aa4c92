import { ZkError, type ZkLayout, type ZkSession } from '../../core/index.js';

/** How many reads are in flight at once while walking the tree. */
const CONCURRENCY = 64;

/**
 * Reads every znode Cairn's repository mirror owns (config, services, releases) as it actually is
 * in ZooKeeper. The syncer reconciles from this after a restart or an uncertain write, so nothing
 * depends on what an earlier process remembered.
 */
export async function readInventory(session: ZkSession, layout: ZkLayout): Promise<Map<string, Uint8Array>> {
  const inventory = new Map<string, Uint8Array>();
  const roots = [layout.configDir(), layout.servicesDir(), layout.releasesDir()];
  let frontier: string[] = [];
  for (const root of roots) {
    const children = await session.childrenIfExists(root);
    frontier.push(...children.map((child) => `${root}/${child}`));
  }
  while (frontier.length > 0) {
    const next: string[] = [];
    for (let i = 0; i < frontier.length; i += CONCURRENCY) {
      const slice = frontier.slice(i, i + CONCURRENCY);
      const nodes = await Promise.all(
        slice.map(async (path) => {
          try {
            const [{ data }, children] = await Promise.all([
              session.get(path),
              session.childrenIfExists(path),
            ]);
            return { path, data, children };
          } catch (error) {
            // Deleted between listing and reading: it is simply not part of the state.
            if (error instanceof ZkError && error.code === 'NO_NODE') return undefined;
            throw error;
          }
        }),
      );
      for (const node of nodes) {
        if (!node) continue;
        inventory.set(node.path, new Uint8Array(node.data));
        next.push(...node.children.map((child) => `${node.path}/${child}`));
      }
    }
    frontier = next;
  }
  return inventory;
}
