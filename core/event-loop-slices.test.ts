import { describe, expect, it } from 'vitest';
import { forEachInSlices, runSteps, runStepsInSlices, sliceYielder } from './event-loop-slices.js';

describe('forEachInSlices', () => {
  it('hands the event loop back each time a slice of work is spent', async () => {
    let clock = 0;
    const order: string[] = [];
    // A callback queued for the event loop runs between slices, not after the whole loop.
    const queueMarker = () => setImmediate(() => order.push('event loop'));
    queueMarker();
    const yields = await forEachInSlices(
      [1, 2, 3, 4, 5, 6, 7],
      (item) => {
        order.push(`item ${item}`);
        clock += 4;
        if (item === 4) queueMarker();
      },
      { sliceMs: 10, now: () => clock },
    );
    // 4 ms an item, slices of 10 ms: a turn of the event loop after items 3 and 6.
    expect(order).toEqual([
      'item 1',
      'item 2',
      'item 3',
      'event loop',
      'item 4',
      'item 5',
      'item 6',
      'event loop',
      'item 7',
    ]);
    expect(yields).toBe(2);
  });

  it('lets a timer fire during a long loop, as a ZooKeeper ping must', async () => {
    let fired = 0;
    const ping = setInterval(() => fired++, 1);
    try {
      // 50 items of 2 ms of busy work each: 100 ms that a loop run in one go would hold.
      await forEachInSlices(
        Array.from({ length: 50 }, (_, i) => i),
        () => {
          const until = performance.now() + 2;
          while (performance.now() < until);
        },
        { sliceMs: 10 },
      );
      expect(fired).toBeGreaterThan(0);
    } finally {
      clearInterval(ping);
    }
  });

  it('does not yield when the work fits in one slice', async () => {
    expect(await forEachInSlices([1, 2, 3], () => undefined, { sliceMs: 1_000 })).toBe(0);
  });
});

describe('sliceYielder', () => {
  it('gives a turn of the event loop only once a slice is spent since the last one it gave', async () => {
    let clock = 0;
    const between = sliceYielder({ sliceMs: 10, now: () => clock });
    const order: string[] = [];
    setImmediate(() => order.push('event loop'));
    for (let step = 1; step <= 5; step++) {
      order.push(`step ${step}`);
      clock += 4;
      await between();
    }
    // 4 ms a step, slices of 10 ms: the one turn comes after step 3, and the slice starts anew.
    expect(order).toEqual(['step 1', 'step 2', 'step 3', 'event loop', 'step 4', 'step 5']);
    expect(between()).toBeUndefined();
    clock += 4;
    expect(between()).toBeInstanceOf(Promise);
  });
});

describe('runSteps and runStepsInSlices', () => {
  /** Work as steps: records each step, pauses after each, and gives what it did. */
  function* steps(order: string[], clock: { now: number }): Generator<void, string, void> {
    for (let step = 1; step <= 4; step++) {
      order.push(`step ${step}`);
      clock.now += 4;
      yield;
    }
    return 'done';
  }

  it('runs every step in one go', () => {
    const order: string[] = [];
    expect(runSteps(steps(order, { now: 0 }))).toBe('done');
    expect(order).toEqual(['step 1', 'step 2', 'step 3', 'step 4']);
  });

  it('hands the event loop back at a pause once a slice is spent', async () => {
    const order: string[] = [];
    const clock = { now: 0 };
    setImmediate(() => order.push('event loop'));
    const result = await runStepsInSlices(steps(order, clock), { sliceMs: 10, now: () => clock.now });
    // 4 ms a step, slices of 10 ms: the turn comes at the pause after step 3.
    expect(result).toBe('done');
    expect(order).toEqual(['step 1', 'step 2', 'step 3', 'event loop', 'step 4']);
  });
});
