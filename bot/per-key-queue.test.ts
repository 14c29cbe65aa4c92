import { describe, expect, it } from 'vitest';
import { PerKeyQueue } from './per-key-queue.js';

/** A promise and the functions that settle it, so a test decides when work ends. */
function gate() {
  let open: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { done, open, fail };
}

describe('PerKeyQueue', () => {
  it('runs work for one key one at a time, in arrival order, and other keys beside it', async () => {
    const queue = new PerKeyQueue();
    const events: string[] = [];
    const first = gate();
    const a1 = queue.run('pr-1', async () => {
      events.push('a1 start');
      await first.done;
      events.push('a1 end');
      return 'a1';
    });
    const a2 = queue.run('pr-1', async () => {
      events.push('a2 start');
      return 'a2';
    });
    const b = queue.run('pr-2', async () => {
      events.push('b');
      return 'b';
    });
    expect(await b).toBe('b');
    expect(events).toEqual(['a1 start', 'b']);
    first.open();
    expect(await Promise.all([a1, a2])).toEqual(['a1', 'a2']);
    expect(events).toEqual(['a1 start', 'b', 'a1 end', 'a2 start']);
    await Promise.resolve();
    expect(queue.size).toBe(0);
  });

  it('goes on after failed work, and hands the failure to its caller only', async () => {
    const queue = new PerKeyQueue();
    const failing = gate();
    const first = queue.run('pr-1', () => failing.done);
    const second = queue.run('pr-1', async () => 'ran');
    failing.fail(new Error('GitHub answered 502'));
    await expect(first).rejects.toThrow('GitHub answered 502');
    expect(await second).toBe('ran');
  });
});
