/**
 * Values the readers of a process share by key, held only while a reader holds them (weakly), with
 * the reads of one key that overlap made once. A read of another reader that fails or finds nothing
 * is no answer for this one: it reads on its own session, since its own server decides what it can
 * see.
 */
class WeakSharedReads<V extends object> {
  private readonly held = new Map<string, WeakRef<V>>();
  private readonly reading = new Map<string, Promise<V | undefined>>();
  private readonly collected = new FinalizationRegistry<string>((key) => {
    if (this.held.get(key)?.deref() === undefined) this.held.delete(key);
  });

  get(key: string): V | undefined {
    return this.held.get(key)?.deref();
  }

  /** The value of `key`: held already, being read by another reader, or read now with `read`. */
  async read(key: string, read: () => Promise<V | undefined>): Promise<V | undefined> {
    const held = this.get(key);
    if (held) return held;
    const pending = this.reading.get(key);
    if (pending) {
      const shared = await pending.catch(() => undefined);
      if (shared) return shared;
      const own = await read();
      if (own) this.keep(key, own);
      return own;
    }
    const reading = read().then((value) => {
      if (value) this.keep(key, value);
      return value;
    });
    this.reading.set(key, reading);
    const forget = () => {
      if (this.reading.get(key) === reading) this.reading.delete(key);
    };
    reading.then(forget, forget);
    return reading;
  }

  keep(key: string, value: V): void {
    if (this.get(key)) return;
    this.held.set(key, new WeakRef(value));
    this.collected.register(value, key);
  }
}

/**
 * Content the readers of this process hold, by content id. Content is immutable and named by its git
 * blob id, so bytes one reader read and checked against their id serve every reader of that id —
 * however many sessions the process has (clients of one environment, an agent beside a service) —
 * and reads of one id that overlap are made once. So do the files a manifest names, once a reader
 * assembled them: the next reader of that manifest takes the same map instead of looking up each of
 * thousands of files again. Both are held only while a reader holds them (weakly), so nothing here
 * outlives the snapshots that use it.
 */
export class SharedContent {
  private readonly bytes = new WeakSharedReads<Uint8Array>();
  private readonly manifests = new WeakSharedReads<ReadonlyMap<string, Uint8Array>>();

  /** Bytes some reader holds under `id`, already checked against it. */
  get(id: string): Uint8Array | undefined {
    return this.bytes.get(id);
  }

  /**
   * The bytes of `id`: held already, being read by another reader, or read now with `read` (which
   * checks them against their id, and resolves undefined when they are missing or damaged).
   */
  read(id: string, read: () => Promise<Uint8Array | undefined>): Promise<Uint8Array | undefined> {
    return this.bytes.read(id, read);
  }

  /** Offers bytes checked against `id` to the other readers. */
  keep(id: string, bytes: Uint8Array): void {
    this.bytes.keep(id, bytes);
  }

  /** Path → bytes of the files the manifest `manifestId` names, as a reader of the process assembled them. */
  files(manifestId: string): ReadonlyMap<string, Uint8Array> | undefined {
    return this.manifests.get(manifestId);
  }

  /**
   * The files the manifest `manifestId` names: assembled already, being assembled by another reader
   * (the clients of an environment all wake at once), or assembled now with `assemble` (undefined
   * when content is missing).
   */
  assembleFiles(
    manifestId: string,
    assemble: () => Promise<ReadonlyMap<string, Uint8Array> | undefined>,
  ): Promise<ReadonlyMap<string, Uint8Array> | undefined> {
    return this.manifests.read(manifestId, assemble);
  }

  /** Offers the files the manifest `manifestId` names (each checked against its id) to the other readers. */
  keepFiles(manifestId: string, files: ReadonlyMap<string, Uint8Array>): void {
    this.manifests.keep(manifestId, files);
  }
}

/** The process's one store: every reader of ZooKeeper content shares it. */
export const sharedContent = new SharedContent();
