/** What a picker chooses between: a stable key (e.g. host:port) and a weight (0 = never chosen). */
export interface WeightedItem {
  readonly key: string;
  readonly weight: number;
}

/** Weights must be finite and non-negative; anything else is a bug in the caller. */
export function checkWeights(items: readonly WeightedItem[]): void {
  for (const item of items) {
    if (!Number.isFinite(item.weight) || item.weight < 0)
      throw new RangeError(`weight of ${item.key} is ${item.weight}: weights are finite and >= 0`);
  }
}
