import picomatch from 'picomatch';
import type { ZkInventory } from './zk-inventory.js';
import type { ZkLayout } from './zk-layout.js';

/** A tag of the config repository and the commit it points at (peeled, for annotated tags). */
export interface TagRef {
  readonly name: string;
  readonly commit: string;
}

/**
 * The tag an environment tracking `pattern` (a glob, e.g. `v*`) serves: of the matching tags, the
 * highest in version order, comparing runs of digits as numbers (`v1.10.0` after `v1.9.3`).
 */
export function newestMatchingTag(pattern: string, tags: readonly TagRef[]): TagRef | undefined {
  const matches = picomatch(pattern);
  let newest: TagRef | undefined;
  for (const tag of tags) {
    if (matches(tag.name) && (!newest || compareVersions(tag.name, newest.name) > 0)) newest = tag;
  }
  return newest;
}

const collator = new Intl.Collator('en', { numeric: true });

function compareVersions(a: string, b: string): number {
  return collator.compare(a, b);
}

/**
 * The inventory ZooKeeper should hold when some environments track tags: everything from the
 * branch's inventory, except that each tracked environment's nodes (its config and its release
 * manifests) come from the inventory of its tag's commit (none at all while no tag matches). The
 * service tree itself (owners, hosts) follows the branch: adding a host needs no release.
 */
export function composeInventory(
  layout: ZkLayout,
  branch: ZkInventory,
  tracked: ReadonlyMap<string, ZkInventory | undefined>,
): ZkInventory {
  if (tracked.size === 0) return branch;
  const services = new Set(branchServices(layout, branch));
  const composed = new Map<string, Uint8Array>();
  for (const [path, data] of branch) {
    const scope = layout.environmentOf(path);
    if (scope && tracked.has(scope.env)) continue;
    composed.set(path, data);
  }
  // The branch's inventory holds its own folders; a tagged environment may need others (the first
  // release of a service comes with a tag, say), so the nodes it brings get their parents.
  const empty = new Uint8Array(0);
  for (const [env, inventory] of tracked) {
    for (const [path, data] of inventory ?? []) {
      const scope = layout.environmentOf(path);
      if (scope?.env !== env || !services.has(scope.service)) continue;
      composed.set(path, data);
      for (const ancestor of layout.ancestorsOf(path).slice(2)) {
        if (!composed.has(ancestor)) composed.set(ancestor, empty);
      }
    }
  }
  return composed;
}

/** The services the branch has: those with a /services node. */
function branchServices(layout: ZkLayout, branch: ZkInventory): string[] {
  const prefix = `${layout.servicesDir()}/`;
  return [...branch.keys()]
    .filter((path) => path.startsWith(prefix))
    .map((path) => path.slice(prefix.length));
}
