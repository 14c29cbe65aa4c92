/**
 * Runs `operation` with a deadline. isomorphic-git's commands take no AbortSignal, so the command's
 * promise is raced against a timer; the signal handed to `operation` is aborted when the deadline
 * passes, for the HTTP requests it makes (see `RefAdvertisement.http`), so that no socket outlives it.
 */
export async function withDeadline<T>(
  ms: number,
  operation: (signal: AbortSignal) => Promise<T>,
  onTimeout: () => Error,
): Promise<T> {
  const controller = new AbortController();
  const running = operation(controller.signal);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // The operation now fails with the abort, which nobody awaits any more: the deadline's
      // error is the one reported, so this rejection is observed here and dropped on purpose.
      running.catch(() => undefined);
      controller.abort();
      reject(onTimeout());
    }, ms);
  });
  try {
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
