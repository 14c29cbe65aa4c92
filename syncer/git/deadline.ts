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

/** What an operation under a deadline on progress is handed. */
export interface ProgressDeadline {
  /** Aborted when the deadline passes. */
  readonly signal: AbortSignal;
  /** Says that the operation progressed (bytes arrived): the deadline starts again from now. */
  progressed(): void;
}

/**
 * Runs `operation` until it settles, failing with `onTimeout()` when it goes `ms` without progress.
 * A transfer is then bounded by how long the server may stay silent, not by its size: a first clone
 * of a large repository takes as long as its bytes take, while a server that stops sending is given
 * up on as soon as with a deadline on the whole. git's server sends progress (and keep-alive) packets
 * while it prepares a pack, so a long preparation is progress too.
 */
export async function withProgressDeadline<T>(
  ms: number,
  operation: (deadline: ProgressDeadline) => Promise<T>,
  onTimeout: () => Error,
): Promise<T> {
  const controller = new AbortController();
  let settled = false;
  let running: Promise<T> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // As in withDeadline: the operation's own failure (the abort) is not the one reported.
      running?.catch(() => undefined);
      controller.abort();
      reject(onTimeout());
    }, ms);
  });
  // A refreshed timer is armed again, even once cleared: never after the operation settled.
  const progressed = () => {
    if (!settled) timer?.refresh();
  };
  running = operation({ signal: controller.signal, progressed });
  try {
    return await Promise.race([running, expired]);
  } finally {
    settled = true;
    clearTimeout(timer);
  }
}
