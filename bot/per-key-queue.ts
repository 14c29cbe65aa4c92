/**
 * Runs work one at a time per key, in the order it arrives; work for different keys runs side by
 * side. Two deliveries for the same pull request (GitHub sends `opened` and `synchronize` together
 * after a quick push) then never both find no plan comment and both create one.
 */
export class PerKeyQueue {
  readonly #tails = new Map<string, Promise<void>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    // After the previous work settles, whether it succeeded or failed.
    const result = previous.then(work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running (0 when idle: nothing is kept for a key once its work is done). */
  get size(): number {
    return this.#tails.size;
  }
}
