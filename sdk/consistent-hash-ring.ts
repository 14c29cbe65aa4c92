import { createHash } from 'node:crypto';
import { checkWeights, type WeightedItem } from './weighted-item.js';

export interface ConsistentHashRingOptions {
  /** Points on the ring per unit of weight. Default 1.6: 160 points for the default weight of 100. */
  readonly pointsPerWeight?: number;
}

/**
 * Consistent hashing with weighted virtual nodes (ketama): each item puts points on a 32-bit ring in
 * proportion to its weight, at positions derived from its key alone; a request key belongs to the
 * first point at or after its own hash. Adding an item only takes keys for itself, removing one only
 * moves its own keys, so caches keyed by user survive scaling.
 */
export class ConsistentHashRing<T extends WeightedItem> {
  private readonly items: readonly T[];
  private readonly positions: Uint32Array;
  private readonly owners: Uint32Array;

  constructor(items: readonly T[], options: ConsistentHashRingOptions = {}) {
    checkWeights(items);
    const pointsPerWeight = options.pointsPerWeight ?? 1.6;
    if (!(pointsPerWeight > 0)) throw new RangeError('pointsPerWeight must be positive');
    this.items = items;
    const points: { position: number; owner: number }[] = [];
    items.forEach((item, owner) => {
      const count = Math.round(item.weight * pointsPerWeight);
      // One md5 gives four 32-bit points, as ketama does.
      for (let group = 0; group * 4 < count; group++) {
        const digest = createHash('md5').update(`${item.key}-${group}`).digest();
        for (let i = 0; i < 4 && group * 4 + i < count; i++)
          points.push({ position: digest.readUInt32LE(i * 4), owner });
      }
    });
    // Ties (rare) go to the smaller key, so the ring does not depend on the order items came in.
    points.sort(
      (a, b) => a.position - b.position || compareKeys(items[a.owner]?.key ?? '', items[b.owner]?.key ?? ''),
    );
    this.positions = Uint32Array.from(points, (p) => p.position);
    this.owners = Uint32Array.from(points, (p) => p.owner);
  }

  /** The item that owns `key`, or undefined when no item has a positive weight. */
  get(key: string): T | undefined {
    const size = this.positions.length;
    if (size === 0) return undefined;
    const hash = createHash('md5').update(key).digest().readUInt32LE(0);
    let low = 0;
    let high = size;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.positions[mid] as number) < hash) low = mid + 1;
      else high = mid;
    }
    return this.items[this.owners[low === size ? 0 : low] as number];
  }
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
