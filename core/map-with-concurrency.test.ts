import { describe, expect, it } from 'vitest';
import { mapWithConcurrency } from './map-with-concurrency.js';

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('mapWithConcurrency', () => {
  it('keeps the order of results and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const results = await mapWithConcurrency([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('rejects with the first failure', async () => {
    await expect(
      mapWithConcurrency([1, 2], 4, async (n) => {
        if (n === 2) throw new Error('no');
        return n;
      }),
    ).rejects.toThrow('no');
  });

  it('rejects only once every task started has ended, and starts none after a failure', async () => {
    const slow = deferred();
    const started: string[] = [];
    let slowEnded = false;
    const settled = mapWithConcurrency(['fails', 'slow', 'after'], 2, async (item) => {
      started.push(item);
      if (item === 'fails') throw new Error('disk full');
      if (item === 'slow') {
        await slow.promise;
        slowEnded = true;
      }
    });
    let outcome: unknown;
    void settled.catch((error: unknown) => {
      outcome = error;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(outcome).toBeUndefined(); // the slow task is still under way
    slow.resolve();
    await expect(settled).rejects.toThrow('disk full');
    expect(slowEnded).toBe(true);
    expect(started).toEqual(['fails', 'slow']);
  });

  it('maps no items to none', async () => {
    expect(
      await mapWithConcurrency([], 4, async () => {
        throw new Error('never called');
      }),
    ).toEqual([]);
  });
});
