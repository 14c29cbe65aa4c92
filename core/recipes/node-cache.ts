import { EventEmitter } from 'node:events';
import type { SessionKeeper } from '../zookeeper/session-keeper.js';
import type { ZkStat } from '../zookeeper/zk-stat.js';
import { WatchedRead } from './watched-read.js';

export interface NodeCacheOptions<T> {
  readonly keeper: SessionKeeper;
  readonly path: string;
  /** Turns the node's bytes into a value; a throw is reported as an error and retried. */
  readonly decode: (data: Uint8Array, path: string) => T;
  /** Default 30 s. */
  readonly resyncIntervalMs?: number;
}

/** What a NodeCache holds: the decoded value and its stat, or nothing while the node does not exist. */
export type CachedNode<T> = { readonly value: T; readonly stat: ZkStat } | undefined;

/**
 * One node's data, kept current (Curator's NodeCache): its creation, changes and deletion, through
 * reconnections and new sessions.
 */
export class NodeCache<T> extends EventEmitter<{ change: [CachedNode<T>]; error: [unknown, number] }> {
  private readonly loop: WatchedRead<CachedNode<T>>;
  private current: CachedNode<T>;
  private loaded = false;

  constructor(options: NodeCacheOptions<T>) {
    super();
    const { keeper, path, decode } = options;
    this.loop = new WatchedRead({
      keeper,
      read: async (session, watch) => {
        const node = await session.getWatched(path, watch);
        return node && { value: decode(node.data, path), stat: node.stat };
      },
      onRead: (node) => {
        const changed = !this.loaded || node?.stat.mzxid !== this.current?.stat.mzxid;
        this.loaded = true;
        this.current = node;
        if (changed) this.emit('change', node);
      },
      onError: (error, failures) => this.emit('error', error, failures),
      resync: {
        intervalMs: options.resyncIntervalMs ?? 30_000,
        changed: async (session) => (await session.exists(path))?.mzxid !== this.current?.stat.mzxid,
      },
    });
  }

  /** Whether a first read completed. */
  get ready(): boolean {
    return this.loaded;
  }

  get node(): CachedNode<T> {
    return this.current;
  }

  start(): void {
    this.loop.start();
  }

  request(): void {
    this.loop.request();
  }

  async idle(): Promise<void> {
    await this.loop.idle();
  }

  async close(): Promise<void> {
    await this.loop.close();
  }
}
