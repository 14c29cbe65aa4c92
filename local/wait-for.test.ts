import { describe, expect, it } from 'vitest';
import { LocalServerError } from './local-server-error.js';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('resolves with the first truthy value, retrying through falsy values and errors', async () => {
    let attempts = 0;
    const value = await waitFor(
      () => {
        attempts++;
        if (attempts === 1) throw new Error('not listening yet');
        return attempts >= 3 ? { attempts } : undefined;
      },
      { description: 'the third attempt', intervalMs: 1 },
    );
    expect(value).toEqual({ attempts: 3 });
  });

  it('names the description and the last error when the deadline passes', async () => {
    const failure = await waitFor(
      () => {
        throw new Error('connection refused');
      },
      { description: 'the syncer to mirror commit abc123', timeoutMs: 30, intervalMs: 5 },
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(LocalServerError);
    expect(failure).toMatchObject({ code: 'WAIT_TIMEOUT' });
    expect((failure as Error).message).toMatch(
      /^Timed out after 30 ms waiting for the syncer to mirror commit abc123; .*connection refused$/,
    );
    expect((failure as Error).cause).toEqual(new Error('connection refused'));
  });

  it('stops at once with the reason when its signal aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('the server process exited');
    const waiting = waitFor(() => false, {
      description: 'never',
      timeoutMs: 60_000,
      intervalMs: 10_000,
      signal: controller.signal,
    });
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });
});
