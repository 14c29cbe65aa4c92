import {
  encodeLogChunks,
  LOG_CHUNK_BYTES,
  LOG_CHUNKS_KEPT,
  logChunkSeqOf,
  ZkError,
  type ZkLayout,
  type ZkOp,
  type ZkSession,
} from '../../core/index.js';

/** How often what a deploy printed is sent, at most. */
const FLUSH_INTERVAL_MS = 500;

export interface LogTarget {
  readonly session: ZkSession;
  readonly layout: ZkLayout;
  readonly service: string;
  readonly env: string;
  readonly deployment: string;
  readonly host: string;
}

/**
 * The tail of a deploy's output, streamed into ZooKeeper in chunks of at most LOG_CHUNK_BYTES, the
 * last LOG_CHUNKS_KEPT kept: a 10 MB log costs a few writes of at most 64 KB, never near
 * jute.maxbuffer. Output that arrives while a write is in flight waits for the next one.
 */
export class LogStream {
  private readonly target: LogTarget;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private chunks: number[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(target: LogTarget) {
    this.target = target;
  }

  append(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // Only the kept tail can ever be sent: drop what is older.
    const max = LOG_CHUNK_BYTES * LOG_CHUNKS_KEPT;
    while (this.pendingBytes - (this.pending[0]?.length ?? 0) >= max) {
      this.pendingBytes -= this.pending.shift()?.length ?? 0;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_INTERVAL_MS);
  }

  /** Sends what is pending; resolves when every write so far is done. Never throws: a log is best effort. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const output = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    const { session, layout, service, env, deployment, host } = this.target;
    const folder = layout.deploymentLog(service, env, deployment, host);
    try {
      if (this.chunks === undefined) {
        await session.create(folder).catch((error: unknown) => {
          if (!(error instanceof ZkError && error.code === 'NODE_EXISTS')) throw error;
        });
        this.chunks = (await session.children(folder)).children
          .map((name) => logChunkSeqOf(name))
          .filter((seq): seq is number => seq !== undefined)
          .sort((a, b) => a - b);
      }
      const chunks = this.chunks;
      let next = (chunks.at(-1) ?? -1) + 1;
      const ops: ZkOp[] = [];
      for (const data of encodeLogChunks(output)) {
        ops.push({
          op: 'create',
          path: layout.deploymentLogChunk(service, env, deployment, host, next),
          data,
        });
        chunks.push(next++);
      }
      while (chunks.length > LOG_CHUNKS_KEPT) {
        const old = chunks.shift() as number;
        ops.push({ op: 'remove', path: layout.deploymentLogChunk(service, env, deployment, host, old) });
      }
      await session.multi(ops);
    } catch {
      // The log is a convenience: a failed write loses that piece, and the next one starts afresh.
      this.chunks = undefined;
    }
  }
}
