import { Backoff, type BackoffOptions } from './backoff.js';

export interface CoalescingTriggerOptions {
  /**
   * When the job throws, run it again after a backoff delay (reset by a run that succeeds). Without
   * it a failed run is only reported, and the next request runs the job again.
   */
  readonly retry?: BackoffOptions | false;
  /** Told of every failed run, with the number of failures in a row and the delay before the retry. */
  readonly onError?: (error: unknown, failures: number, retryInMs: number | undefined) => void;
}

/**
 * Runs a job whenever asked, never twice at once: requests that arrive while it runs collapse into
 * one more run afterwards. A burst of events thus costs one run, and the last one is never missed.
 * A failed run is retried with Cairn's backoff, unless a request comes first.
 */
export class CoalescingTrigger {
  private readonly job: () => Promise<void>;
  private readonly backoff: Backoff | undefined;
  private readonly onError: CoalescingTriggerOptions['onError'];
  private running: Promise<void> | undefined;
  private pending = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(job: () => Promise<void>, options: CoalescingTriggerOptions = {}) {
    this.job = job;
    this.backoff = options.retry === false ? undefined : new Backoff(options.retry ?? {});
    this.onError = options.onError;
  }

  /** Failed runs in a row. */
  get failures(): number {
    return this.backoff?.failures ?? 0;
  }

  request(): void {
    if (this.closed) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.pending = true;
    if (!this.running) this.running = this.drain();
  }

  /** Resolves when no run is in progress or pending (a scheduled retry does not count). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pending = false;
    clearTimeout(this.retryTimer);
    await this.idle();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending && !this.closed) {
        this.pending = false;
        try {
          await this.job();
          this.backoff?.reset();
        } catch (error) {
          const delay = this.backoff?.next();
          this.onError?.(error, this.backoff?.failures ?? 1, delay);
          if (delay !== undefined && !this.pending && !this.closed) {
            this.retryTimer = setTimeout(() => this.request(), delay);
            this.retryTimer.unref();
          }
        }
      }
    } finally {
      this.running = undefined;
    }
  }
}
