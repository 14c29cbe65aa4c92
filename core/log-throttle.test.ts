import { describe, expect, it } from 'vitest';
import { LogThrottle } from './log-throttle.js';

describe('LogThrottle', () => {
  it('admits one line per key per interval and then says how many it left out', () => {
    let now = 0;
    const throttle = new LogThrottle({ intervalMs: 60_000, now: () => now });
    expect(throttle.admit('unsigned')).toEqual({ suppressed: 0 });
    expect(throttle.admit('unsigned')).toBeUndefined();
    expect(throttle.admit('unsigned')).toBeUndefined();
    // Another key has its own budget.
    expect(throttle.admit('too_large')).toEqual({ suppressed: 0 });
    now = 59_999;
    expect(throttle.admit('unsigned')).toBeUndefined();
    now = 60_000;
    expect(throttle.admit('unsigned')).toEqual({ suppressed: 3 });
    expect(throttle.admit('unsigned')).toBeUndefined();
    now = 200_000;
    expect(throttle.admit('unsigned')).toEqual({ suppressed: 1 });
    expect(throttle.admit('too_large')).toEqual({ suppressed: 0 });
  });
});
