import type { Host } from './config-repo.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS, type ReleaseStrategy } from './manifests.js';

/** How a deployment would move through an environment's hosts: canary first, then batches. */
export interface Rollout {
  readonly canary: readonly string[];
  readonly bakeSeconds: number;
  readonly pauseAfterCanary: boolean;
  readonly batches: readonly (readonly string[])[];
  readonly pauseBetweenBatchesSeconds: number;
  readonly maxFailedHosts: number;
  readonly progressDeadlineSeconds: number;
}

/**
 * The rollout a release strategy implies for a list of hosts, in the order service.yaml lists them: the
 * first `canary.hosts` hosts are the canary, the rest go in batches of `batchSize` hosts (a percentage is
 * of all the environment's hosts, rounded up, at least one). Hosts with weight 0 are deployed too.
 * A rollback (`rollback: true`) has no canary and no bake but keeps the batch size: a revert that
 * ignores batch limits takes everything down at once.
 */
export function rolloutOf(strategy: ReleaseStrategy, hosts: readonly Pick<Host, 'host'>[]): Rollout {
  const names = hosts.map((h) => h.host);
  const canary = strategy.rollback ? undefined : strategy.canary;
  const canaryCount = Math.min(canary?.hosts ?? 0, names.length);
  const rest = names.slice(canaryCount);
  const size = batchSizeOf(strategy.batchSize, names.length);
  const batches: string[][] = [];
  for (let i = 0; i < rest.length; i += size) batches.push(rest.slice(i, i + size));
  return {
    canary: names.slice(0, canaryCount),
    bakeSeconds: canary ? (canary.bakeSeconds ?? 300) : 0,
    pauseAfterCanary: canary?.pause ?? false,
    batches,
    pauseBetweenBatchesSeconds: strategy.pauseBetweenBatchesSeconds ?? 0,
    maxFailedHosts: strategy.maxFailedHosts ?? 0,
    progressDeadlineSeconds: strategy.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS,
  };
}

export function batchSizeOf(batchSize: ReleaseStrategy['batchSize'], hosts: number): number {
  if (typeof batchSize === 'number') return Math.max(1, batchSize);
  const percent = Number.parseFloat(batchSize);
  return Math.max(1, Math.ceil((hosts * percent) / 100));
}
