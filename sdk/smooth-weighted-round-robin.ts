import { checkWeights, type WeightedItem } from './weighted-item.js';

/**
 * nginx's smooth weighted round-robin: each pick adds every item's weight to its running score, takes
 * the highest score and subtracts the total from it. Over any run of total-weight picks each item is
 * chosen exactly in proportion to its weight, and picks of one item are spread out rather than
 * bunched (weights 5,1,1 give a a b a c a a, not a a a a a b c).
 */
export class SmoothWeightedRoundRobin<T extends WeightedItem> {
  private entries: { item: T; current: number }[] = [];

  constructor(items: readonly T[] = []) {
    this.update(items);
  }

  /** Replaces the items; items whose key stays keep their running score, so the rotation carries on. */
  update(items: readonly T[]): void {
    checkWeights(items);
    const scores = new Map(this.entries.map((entry) => [entry.item.key, entry.current]));
    this.entries = items.map((item) => ({ item, current: scores.get(item.key) ?? 0 }));
  }

  /** The next item, or undefined when no item has a positive weight. */
  pick(): T | undefined {
    let best: { item: T; current: number } | undefined;
    let total = 0;
    for (const entry of this.entries) {
      const weight = entry.item.weight;
      if (weight <= 0) continue;
      entry.current += weight;
      total += weight;
      if (!best || entry.current > best.current) best = entry;
    }
    if (!best) return undefined;
    best.current -= total;
    return best.item;
  }
}
