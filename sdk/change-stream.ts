import type { ChangeInfo } from './change-info.js';
import { type FileChange, mergeFileChanges } from './file-delta.js';

/** Every file one commit changed for this service, delivered together. */
export interface ConfigChange extends ChangeInfo {
  /** The commit the service had before; with a burst of commits coalesced, not necessarily the parent. */
  readonly previousCommit: string | undefined;
  /** The changed files, sorted by path. */
  readonly files: readonly FileChange[];
}

/** Two consecutive changes as one: the newer commit, and each file from before the older to after the newer. */
export function mergeConfigChanges(older: ConfigChange, newer: ConfigChange): ConfigChange {
  return {
    ...newer,
    previousCommit: older.previousCommit,
    files: mergeFileChanges(older.files, newer.files),
  };
}

/**
 * The async-iterator form of a client's changes. A consumer slower than the commits gets them
 * coalesced — one pending change holds everything since its last step — so memory stays bounded and
 * the newest commit is never lost.
 */
export class ChangeStream implements AsyncIterableIterator<ConfigChange> {
  private pending: ConfigChange | undefined;
  private readonly waiting: ((result: IteratorResult<ConfigChange>) => void)[] = [];
  private done = false;
  private readonly onEnd: () => void;

  constructor(onEnd: () => void) {
    this.onEnd = onEnd;
  }

  push(change: ConfigChange): void {
    if (this.done) return;
    const resolve = this.waiting.shift();
    if (resolve) {
      resolve({ value: change, done: false });
      return;
    }
    const merged = this.pending ? mergeConfigChanges(this.pending, change) : change;
    // Changes that cancel out (a file changed and changed back) leave nothing to deliver.
    this.pending = merged.files.length > 0 ? merged : undefined;
  }

  /** Ends the stream: a waiting next() resolves done, as do later ones. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.pending = undefined;
    this.onEnd();
    for (const resolve of this.waiting.splice(0)) resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<ConfigChange>> {
    if (this.pending) {
      const value = this.pending;
      this.pending = undefined;
      return Promise.resolve({ value, done: false });
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting.push(resolve);
    });
  }

  /** `break` out of a `for await` lands here: stop listening. */
  return(): Promise<IteratorResult<ConfigChange>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ConfigChange> {
    return this;
  }
}
