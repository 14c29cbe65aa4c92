import { expect, it } from 'vitest';
import { runRestartSoak } from './restart-soak.js';

// The short run of `npm run soak` (200 restarts): a few restarts of each kind, twenty clients.
it('survives 15 ZooKeeper restarts under 20 connected client processes: none crashes, no update is lost', async () => {
  const result = await runRestartSoak({ restarts: 15, clients: 20 });
  expect(result.crashed).toEqual([]);
  expect(result.regressions).toEqual([]);
  expect(result.behind).toEqual([]);
  expect(result.lost).toBe(0);
  expect(result.notMonotonic).toBe(0);
  expect(result.sigkill).toBeGreaterThan(0);
  expect(result.sigterm).toBeGreaterThan(0);
  expect(result.acknowledged).toBeGreaterThanOrEqual(15 * 3);
}, 240_000);
