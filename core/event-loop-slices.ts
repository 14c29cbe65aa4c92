import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * How long one slice of a long CPU phase (parsing 100,000 files, computing their snapshots) may hold
 * the event loop. Well under a third of the shortest session timeout (pings leave every third), and
 * short enough that a webhook or a metrics request is answered meanwhile.
 */
export const DEFAULT_SLICE_MS = 50;

/** Resolves after one turn of the event loop: the timers and I/O waiting meanwhile run first. */
export async function yieldToEventLoop(): Promise<void> {
  await nextTurn();
}

export interface SliceOptions {
  readonly sliceMs?: number;
  /** The clock slices are measured with; a test passes its own. */
  readonly now?: () => number;
}

/**
 * Runs `work` on every item, handing the event loop back (one turn: timers, I/O, then on) whenever
 * a slice's time is spent. A first sync of a large repository is minutes of parsing; done in one
 * go it starves the ZooKeeper session of pings and the server expires it. Resolves with the number
 * of times it yielded.
 */
export async function forEachInSlices<T>(
  items: Iterable<T>,
  work: (item: T) => void,
  options: SliceOptions = {},
): Promise<number> {
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  const now = options.now ?? (() => performance.now());
  let sliceStarted = now();
  let yields = 0;
  for (const item of items) {
    work(item);
    if (now() - sliceStarted < sliceMs) continue;
    await yieldToEventLoop();
    yields++;
    sliceStarted = now();
  }
  return yields;
}
