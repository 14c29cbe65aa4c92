export interface BackoffOptions {
  /** The first delay. Default 250 ms. */
  readonly initialMs?: number;
  /** The longest delay. Default 30 s. */
  readonly maxMs?: number;
  /** Each delay is this much of the previous one. Default 2. */
  readonly factor?: number;
  /**
   * Each delay is moved by up to this fraction either way, so that many clients that failed together
   * (a ZooKeeper restart) do not retry together. Default 0.2.
   */
  readonly jitter?: number;
}

/**
 * Cairn's one retry policy: exponential, capped, with jitter. Every loop that retries (watches,
 * registrations, syncs, reconcilers) takes its delays from one of these and resets it on success.
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 0.2;
  }

  /** Failures in a row so far. */
  get failures(): number {
    return this.attempt;
  }

  /** Records a failure and returns how long to wait before the next try. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** Math.min(this.attempt, 32));
    this.attempt++;
    const spread = base * this.jitter * (2 * Math.random() - 1);
    return Math.max(0, Math.round(Math.min(this.maxMs, base + spread)));
  }

  reset(): void {
    this.attempt = 0;
  }
}
