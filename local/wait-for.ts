import { setTimeout as delay } from 'node:timers/promises';
import { LocalServerError } from './local-server-error.js';

export interface WaitForOptions {
  /** What is awaited, in words: it is the whole of the timeout message, so make it specific. */
  description: string;
  /** Deadline for the whole wait. Default 10 s. */
  timeoutMs?: number;
  /** Pause between two attempts. Default 50 ms. */
  intervalMs?: number;
  /** Stops waiting at once (rejecting with the signal's reason), e.g. when the awaited process died. */
  signal?: AbortSignal;
}

/**
 * Polls `predicate` until it returns a truthy value, and resolves with that value.
 *
 * Tests synchronise on observable state, never on fixed sleeps: a sleep is either too short on a busy
 * machine (flaky) or too long everywhere (slow). A predicate that throws counts as "not yet" — a
 * refused connection is the normal answer from a server that is still starting — and the last such
 * error is kept as the `cause` of the timeout, so a timeout still explains itself.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions,
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const { description, timeoutMs = 10_000, intervalMs = 50, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await predicate();
      if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    signal?.throwIfAborted();
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const detail = lastError instanceof Error ? `; last attempt failed with: ${lastError.message}` : '';
      throw new LocalServerError(
        'WAIT_TIMEOUT',
        `Timed out after ${timeoutMs} ms waiting for ${description}${detail}`,
        lastError === undefined ? undefined : { cause: lastError },
      );
    }
    try {
      await delay(Math.min(intervalMs, remaining), undefined, signal ? { signal } : undefined);
    } catch {
      // The delay only rejects when `signal` aborts; rethrow the caller's reason, not the AbortError.
      signal?.throwIfAborted();
    }
  }
}
