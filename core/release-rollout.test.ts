import { describe, expect, it } from 'vitest';
import type { Host } from './index.js';
import { batchSizeOf, rolloutOf } from './release-rollout.js';

const hosts = (n: number): Host[] =>
  Array.from({ length: n }, (_, i) => ({ host: `h${i + 1}`, weight: 100, labels: {} }));

describe('rolloutOf', () => {
  it('takes the canary first, then batches of the rest in service.yaml order', () => {
    const rollout = rolloutOf(
      {
        canary: { hosts: 1, bakeSeconds: 600 },
        batchSize: 2,
        pauseBetweenBatchesSeconds: 60,
        maxFailedHosts: 1,
      },
      hosts(8),
    );
    expect(rollout).toEqual({
      canary: ['h1'],
      bakeSeconds: 600,
      pauseAfterCanary: false,
      batches: [['h2', 'h3'], ['h4', 'h5'], ['h6', 'h7'], ['h8']],
      pauseBetweenBatchesSeconds: 60,
      maxFailedHosts: 1,
      progressDeadlineSeconds: 3600,
    });
  });

  it('gives a rollback no canary and no bake, but the same batch size', () => {
    const rollout = rolloutOf(
      { canary: { hosts: 1, bakeSeconds: 600, pause: true }, batchSize: 3, rollback: true },
      hosts(7),
    );
    expect(rollout).toMatchObject({
      canary: [],
      bakeSeconds: 0,
      pauseAfterCanary: false,
      batches: [['h1', 'h2', 'h3'], ['h4', 'h5', 'h6'], ['h7']],
    });
  });

  it('fills the defaults of a strategy without a canary', () => {
    expect(rolloutOf({ batchSize: 1 }, hosts(2))).toMatchObject({
      canary: [],
      bakeSeconds: 0,
      batches: [['h1'], ['h2']],
      maxFailedHosts: 0,
    });
  });

  it('reads a percentage as a share of all hosts, rounded up, at least one', () => {
    expect(batchSizeOf('25%', 10)).toBe(3);
    expect(batchSizeOf('1%', 10)).toBe(1);
    expect(batchSizeOf('100%', 7)).toBe(7);
  });
});
