import {
  CONTENT_ID,
  decodeEnvironmentPointer,
  type EnvironmentPointer,
  environmentKey,
  type PublishedEnvironment,
  type PublishedState,
  ZkError,
  type ZkLayout,
  type ZkSession,
} from '../../core/index.js';

/** How many ZooKeeper reads are in flight at once while reading the state. */
const CONCURRENCY = 64;

/**
 * Reads what ZooKeeper actually holds of the mirror: every environment pointer, service and release
 * record, which content nodes exist, and the nodes no record explains. The syncer reconciles from
 * this after a restart, a lost connection or a change of leader, so nothing depends on what an
 * earlier process remembered, and a hand-edited tree is repaired.
 */
export async function readPublishedState(session: ZkSession, layout: ZkLayout): Promise<PublishedState> {
  const environments = new Map<string, PublishedEnvironment>();
  const services = new Map<string, Uint8Array>();
  const releases = new Map<string, Uint8Array>();
  const strays: string[] = [];
  const folderOf = async (path: string) => {
    const node = await session.getIfExists(path);
    if (node && node.stat.numChildren > 0) strays.push(...(await descendants(session, layout, path)));
    return node;
  };

  const configFolders = new Set(await session.childrenIfExists(layout.configDir()));
  await inBatches([...configFolders], async (service) => {
    const envs = await session.childrenIfExists(layout.configService(service));
    await inBatches(envs, async (env) => {
      const path = layout.environment(service, env);
      const node = await folderOf(path);
      if (!node) return;
      let pointer: EnvironmentPointer | undefined;
      try {
        pointer = decodeEnvironmentPointer(node.data, path);
      } catch {
        // Not a pointer (a hand edit, an earlier layout): it is rewritten or removed like any change.
        pointer = undefined;
      }
      environments.set(environmentKey(service, env), {
        service,
        env,
        manifestId: pointer?.manifest,
        ...(pointer ? { revision: pointer.revision } : {}),
        ...(pointer?.rollout ? { rollout: pointer.rollout } : {}),
      });
    });
  });

  await inBatches(await session.childrenIfExists(layout.servicesDir()), async (service) => {
    const node = await folderOf(layout.service(service));
    if (node) services.set(service, new Uint8Array(node.data));
  });

  const releaseFolders = new Set(await session.childrenIfExists(layout.releasesDir()));
  await inBatches([...releaseFolders], async (service) => {
    const envs = await session.childrenIfExists(layout.releaseService(service));
    await inBatches(envs, async (env) => {
      const node = await folderOf(layout.release(service, env));
      if (node) releases.set(environmentKey(service, env), new Uint8Array(node.data));
    });
  });

  return {
    environments,
    services,
    releases,
    configFolders,
    releaseFolders,
    contents: await readContentIds(session, layout),
    strays: strays.sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1)),
  };
}

/** The ids of every content node, from one listing per shard. */
export async function readContentIds(session: ZkSession, layout: ZkLayout): Promise<Set<string>> {
  const ids = new Set<string>();
  await inBatches(layout.contentShards(), async (shard) => {
    for (const name of await session.childrenIfExists(shard)) if (CONTENT_ID.test(name)) ids.add(name);
  });
  return ids;
}

/** Every node below `path`, at any depth. */
async function descendants(session: ZkSession, layout: ZkLayout, path: string): Promise<string[]> {
  const out: string[] = [];
  let frontier = [path];
  while (frontier.length > 0) {
    const next: string[] = [];
    await inBatches(frontier, async (parent) => {
      for (const child of await session.childrenIfExists(parent)) next.push(layout.child(parent, child));
    });
    out.push(...next);
    frontier = next;
  }
  return out;
}

async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENCY) {
    await Promise.all(
      items.slice(i, i + CONCURRENCY).map((item) =>
        work(item).catch((error: unknown) => {
          // Deleted between listing and reading: it is simply not part of the state.
          if (!(error instanceof ZkError && error.code === 'NO_NODE')) throw error;
        }),
      ),
    );
  }
}

function depth(path: string): number {
  return path.split('/').length;
}
