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
 * For work driven by a loop of someone else's (a library's progress callback): each call hands the
 * event loop back (one turn) once a slice's time is spent since the last turn it gave, and is
 * otherwise a no-op returning undefined. A turn at every call would let whatever waits run between
 * each two steps of a short piece of work, and make it wait as long.
 */
export function sliceYielder(options: SliceOptions = {}): () => Promise<void> | undefined {
  const sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  const now = options.now ?? (() => performance.now());
  let sliceStarted = now();
  return () => {
    if (now() - sliceStarted < sliceMs) return undefined;
    return yieldToEventLoop().then(() => {
      sliceStarted = now();
    });
  };
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
  const between = sliceYielder(options);
  let yields = 0;
  for (const item of items) {
    work(item);
    const turn = between();
    if (!turn) continue;
    await turn;
    yields++;
  }
  return yields;
}

/**
 * Runs a piece of work written as steps (a generator that yields where it may pause) to its end, in
 * one go; its result.
 */
export function runSteps<T>(steps: Generator<void, T, void>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** `runSteps`, handing the event loop back (one turn) at a pause once a slice's time is spent. */
export async function runStepsInSlices<T>(
  steps: Generator<void, T, void>,
  options: SliceOptions = {},
): Promise<T> {
  const between = sliceYielder(options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await between();
  }
}
