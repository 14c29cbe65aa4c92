import { describe, expect, it } from 'vitest';
import { forEachSettled } from './for-each-settled.js';

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('forEachSettled', () => {
  it('runs every item, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await forEachSettled([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      done.push(item);
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('throws the first failure only once every run has ended', async () => {
    const slow = deferred();
    let slowEnded = false;
    const settled = forEachSettled(['fails', 'slow', 'after'], 2, async (item) => {
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
    expect(outcome).toBeUndefined(); // the slow run is still under way
    slow.resolve();
    await expect(settled).rejects.toThrow('disk full');
    expect(slowEnded).toBe(true);
  });

  it('does nothing for no items', async () => {
    await forEachSettled([], 4, async () => {
      throw new Error('never called');
    });
  });
});
