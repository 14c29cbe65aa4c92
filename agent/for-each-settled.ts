/**
 * Runs `act` on every item, at most `limit` at a time, and settles only when every run has ended;
 * then throws the first failure, if any. Waiting for all matters where a failure is followed by
 * putting things back: a write still under way would land after its file was put back.
 */
export async function forEachSettled<T>(
  items: readonly T[],
  limit: number,
  act: (item: T) => Promise<unknown>,
): Promise<void> {
  const failures: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await act(item).catch((error: unknown) => failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
}
