/**
 * At most one log line per key per interval, for events anyone on the network can cause (refused
 * webhook deliveries): a flood costs a few lines a minute, and the line that is written says how many
 * were left out since the previous one.
 */
export class LogThrottle {
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly keys = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(options: { readonly intervalMs?: number; readonly now?: () => number } = {}) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Whether a line for `key` may be written now: `{ suppressed }` (how many were left out since the
   * last line for it) when it may, undefined when it is left out. Keys are a small fixed set (reasons).
   */
  admit(key: string): { readonly suppressed: number } | undefined {
    const now = this.now();
    const seen = this.keys.get(key);
    if (seen && now - seen.loggedAt < this.intervalMs) {
      seen.suppressed++;
      return undefined;
    }
    this.keys.set(key, { loggedAt: now, suppressed: 0 });
    return { suppressed: seen?.suppressed ?? 0 };
  }
}
