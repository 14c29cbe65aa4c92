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
  private readonly held = new Map<string, WeakRef<Uint8Array>>();
  private readonly reading = new Map<string, Promise<Uint8Array | undefined>>();
  private readonly collected = new FinalizationRegistry<string>((id) => {
    if (this.held.get(id)?.deref() === undefined) this.held.delete(id);
  });
  private readonly assembled = new Map<string, WeakRef<ReadonlyMap<string, Uint8Array>>>();
  private readonly assembling = new Map<string, Promise<ReadonlyMap<string, Uint8Array> | undefined>>();
  private readonly collectedFiles = new FinalizationRegistry<string>((manifest) => {
    if (this.assembled.get(manifest)?.deref() === undefined) this.assembled.delete(manifest);
  });

  /** Bytes some reader holds under `id`, already checked against it. */
  get(id: string): Uint8Array | undefined {
    return this.held.get(id)?.deref();
  }

  /**
   * The bytes of `id`: held already, being read by another reader, or read now with `read` (which
   * checks them against their id, and resolves undefined when they are missing or damaged). A read
   * of another reader that fails or finds nothing is no answer for this one: it reads on its own
   * session, since its own server decides what it can see.
   */
  async read(id: string, read: () => Promise<Uint8Array | undefined>): Promise<Uint8Array | undefined> {
    const held = this.get(id);
    if (held) return held;
    const pending = this.reading.get(id);
    if (pending) {
      const shared = await pending.catch(() => undefined);
      if (shared) return shared;
      const own = await read();
      if (own) this.keep(id, own);
      return own;
    }
    const reading = read().then((bytes) => {
      if (bytes) this.keep(id, bytes);
      return bytes;
    });
    this.reading.set(id, reading);
    const forget = () => {
      if (this.reading.get(id) === reading) this.reading.delete(id);
    };
    reading.then(forget, forget);
    return reading;
  }

  /** Path → bytes of the files the manifest `manifestId` names, as a reader of the process assembled them. */
  files(manifestId: string): ReadonlyMap<string, Uint8Array> | undefined {
    return this.assembled.get(manifestId)?.deref();
  }

  /**
   * The files the manifest `manifestId` names: assembled already, being assembled by another reader
   * (the clients of an environment all wake at once), or assembled now with `assemble` (undefined
   * when content is missing). As for read(), another reader's failure is no answer for this one.
   */
  async assembleFiles(
    manifestId: string,
    assemble: () => Promise<ReadonlyMap<string, Uint8Array> | undefined>,
  ): Promise<ReadonlyMap<string, Uint8Array> | undefined> {
    const held = this.files(manifestId);
    if (held) return held;
    const pending = this.assembling.get(manifestId);
    if (pending) {
      const shared = await pending.catch(() => undefined);
      if (shared) return shared;
      const own = await assemble();
      if (own) this.keepFiles(manifestId, own);
      return own;
    }
    const assembling = assemble().then((files) => {
      if (files) this.keepFiles(manifestId, files);
      return files;
    });
    this.assembling.set(manifestId, assembling);
    const forget = () => {
      if (this.assembling.get(manifestId) === assembling) this.assembling.delete(manifestId);
    };
    assembling.then(forget, forget);
    return assembling;
  }

  /** Offers the files the manifest `manifestId` names (each checked against its id) to the other readers. */
  keepFiles(manifestId: string, files: ReadonlyMap<string, Uint8Array>): void {
    if (this.files(manifestId)) return;
    this.assembled.set(manifestId, new WeakRef(files));
    this.collectedFiles.register(files, manifestId);
  }

  /** Offers bytes checked against `id` to the other readers. */
  keep(id: string, bytes: Uint8Array): void {
    if (this.get(id)) return;
    this.held.set(id, new WeakRef(bytes));
    this.collected.register(bytes, id);
  }
}

/** The process's one store: every reader of ZooKeeper content shares it. */
export const sharedContent = new SharedContent();
