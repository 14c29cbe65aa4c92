/**
 * Maps `items` through `task` with at most `limit` tasks in flight, keeping the order of results.
 * After a failure nothing new starts, and the map settles only once every task started has ended,
 * then rejects with the first failure. Waiting matters where a failure is followed by putting
 * things back (the agent's swap): a write still under way would land after its file was put back.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  const failures: unknown[] = [];
  let next = 0;
  const worker = async () => {
    while (failures.length === 0 && next < items.length) {
      const index = next++;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failures.length > 0) throw failures[0];
  return results;
}
