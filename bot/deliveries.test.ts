import { describe, expect, it } from 'vitest';
import { runConcerns } from './deliveries.js';

describe('runConcerns', () => {
  it('lets every concern finish when one fails, then rethrows that failure as it is', async () => {
    const finished: string[] = [];
    const failure = new Error('GitHub said 502');
    const later = (name: string) =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          finished.push(name);
          resolve();
        }, 10),
      );
    await expect(runConcerns([Promise.reject(failure), later('plan'), later('approvals')])).rejects.toBe(
      failure,
    );
    expect(finished).toEqual(['plan', 'approvals']);
  });

  it('rethrows several failures together, each one kept', async () => {
    const a = new Error('validate failed');
    const b = new Error('plan failed');
    const error = await runConcerns([Promise.reject(a), Promise.resolve(), Promise.reject(b)]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toEqual([a, b]);
    expect((error as Error).message).toBe('validate failed\nplan failed');
  });

  it('resolves when every concern succeeded', async () => {
    await expect(runConcerns([Promise.resolve(), Promise.resolve()])).resolves.toBeUndefined();
  });
});
