/**
 * Runs a job whenever asked, never twice at once: requests that arrive while it runs collapse into
 * one more run afterwards. A burst of pushes thus costs one fetch, and the last push is never missed.
 */
export class CoalescingTrigger {
  private readonly job: () => Promise<void>;
  private running: Promise<void> | undefined;
  private pending = false;
  private closed = false;

  constructor(job: () => Promise<void>) {
    this.job = job;
  }

  request(): void {
    if (this.closed) return;
    this.pending = true;
    if (!this.running) this.running = this.drain();
  }

  /** Resolves when no run is in progress or pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pending = false;
    await this.idle();
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending && !this.closed) {
        this.pending = false;
        await this.job();
      }
    } finally {
      this.running = undefined;
    }
  }
}
