import type { ConfigRepo, Service } from './config-repo.js';
import { contentId } from './content-id.js';
import type { ZkLayout } from './zk-layout.js';

/**
 * Every znode a config repository owns at one commit, with its data: the desired state of ZooKeeper.
 * The syncer writes the difference between two inventories; the bot previews the same difference.
 */
export type ZkInventory = ReadonlyMap<string, Uint8Array>;

/** The index stored in an environment node: which files the environment has, by content id. */
export interface EnvironmentIndex {
  readonly files: Readonly<Record<string, string>>;
}

const EMPTY = new Uint8Array(0);

export function inventoryOf(repo: ConfigRepo, layout: ZkLayout): ZkInventory {
  const inventory = new Map<string, Uint8Array>();
  for (const service of repo.services.values()) {
    for (const [path, data] of serviceInventory(service, layout)) inventory.set(path, data);
  }
  return inventory;
}

/** Per Service object and root: a model cache keeps unchanged services' objects from load to load. */
const serviceInventories = new WeakMap<Service, { root: string; entries: Map<string, Uint8Array> }>();

function serviceInventory(service: Service, layout: ZkLayout): Map<string, Uint8Array> {
  const cached = serviceInventories.get(service);
  if (cached && cached.root === layout.root) return cached.entries;
  const inventory = new Map<string, Uint8Array>();
  const folder = (path: string) => {
    if (!inventory.has(path)) inventory.set(path, EMPTY);
  };
  inventory.set(layout.service(service.name), json(serviceRecord(service)));
  folder(layout.configService(service.name));
  for (const [env, files] of service.files) {
    const envPath = layout.configEnv(service.name, env);
    const index: Record<string, string> = {};
    for (const file of files.values()) {
      const filePath = layout.configFile(service.name, env, file.path);
      // Folders of nested files become empty znodes between the environment node and the file.
      for (let i = filePath.indexOf('/', envPath.length + 1); i !== -1; i = filePath.indexOf('/', i + 1)) {
        folder(filePath.slice(0, i));
      }
      inventory.set(filePath, file.bytes);
      index[file.path] = contentId(file.bytes);
    }
    inventory.set(envPath, json({ files: index } satisfies EnvironmentIndex));
  }
  if (service.releases.size > 0) folder(layout.releaseService(service.name));
  for (const release of service.releases.values()) {
    inventory.set(layout.release(service.name, release.env), json(release.manifest));
  }
  serviceInventories.set(service, { root: layout.root, entries: inventory });
  return inventory;
}

/** What ZooKeeper records of a service: its manifest with every default filled in. */
function serviceRecord(service: Service) {
  const { manifest } = service;
  return {
    name: service.name,
    description: manifest.description,
    owners: manifest.owners,
    ...(manifest.port !== undefined ? { port: manifest.port } : {}),
    ...(manifest.files ? { files: { mode: '0644', ...manifest.files } } : {}),
    dependsOn: manifest.dependsOn ?? [],
    environments: Object.fromEntries([...service.environments].map(([name, env]) => [name, env])),
  };
}

function json(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

/** The operations that turn one inventory into another, in an order ZooKeeper accepts. */
export interface InventoryDiff {
  /** New znodes, parents before children. */
  readonly creates: readonly string[];
  /** Existing znodes whose data changes. */
  readonly updates: readonly string[];
  /** Znodes to delete, children before parents. */
  readonly removes: readonly string[];
}

export function diffInventories(from: ZkInventory, to: ZkInventory): InventoryDiff {
  const creates: string[] = [];
  const updates: string[] = [];
  const removes: string[] = [];
  for (const [path, data] of to) {
    const before = from.get(path);
    if (before === undefined) creates.push(path);
    else if (before !== data && !Buffer.from(before).equals(data)) updates.push(path);
  }
  for (const path of from.keys()) if (!to.has(path)) removes.push(path);
  creates.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1));
  removes.sort((a, b) => depth(b) - depth(a) || (a < b ? -1 : 1));
  updates.sort();
  return { creates, updates, removes };
}

function depth(path: string): number {
  let count = 0;
  for (let i = 0; i < path.length; i++) if (path.charCodeAt(i) === 47) count++;
  return count;
}

export function isEmptyDiff(diff: InventoryDiff): boolean {
  return diff.creates.length === 0 && diff.updates.length === 0 && diff.removes.length === 0;
}
