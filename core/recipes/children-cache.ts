import { EventEmitter } from 'node:events';
import type { SessionKeeper } from '../zookeeper/session-keeper.js';
import { WatchedRead } from './watched-read.js';

export interface ChildrenCacheOptions<T> {
  readonly keeper: SessionKeeper;
  /** The folder whose children are followed. */
  readonly path: string;
  /** The path of a child, by the name `getChildren` lists. */
  readonly childPath: (name: string) => string;
  /** Turns a child's bytes into a value; a throw leaves the child out and is reported to `onSkipped`. */
  readonly decode: (data: Uint8Array, path: string) => T;
  readonly onSkipped?: (path: string, error: unknown) => void;
}

/**
 * The children of a folder and their data (Curator's PathChildrenCache, for membership): re-read
 * whenever a child comes or goes, and on every reconnection; a child's own data changes are seen by
 * `refresh()` (watching every child would make a reconnection re-send thousands of watches).
 */
export class ChildrenCache<T> extends EventEmitter<{
  change: [ReadonlyMap<string, T>];
  error: [unknown, number];
}> {
  private readonly loop: WatchedRead<Map<string, T>>;
  private current: ReadonlyMap<string, T> = new Map();
  private loaded = false;

  constructor(options: ChildrenCacheOptions<T>) {
    super();
    const { keeper, path, childPath, decode, onSkipped } = options;
    this.loop = new WatchedRead({
      keeper,
      read: async (session, watch) => {
        const names = (await session.childrenWatched(path, watch))?.children;
        if (!names) return new Map<string, T>();
        const entries = await Promise.all(
          names.sort().map(async (name) => {
            const child = childPath(name);
            const node = await session.getIfExists(child); // gone meanwhile: no longer a member
            if (!node) return undefined;
            try {
              return [name, decode(node.data, child)] as const;
            } catch (error) {
              onSkipped?.(child, error);
              return undefined;
            }
          }),
        );
        return new Map(entries.filter((entry) => entry !== undefined));
      },
      onRead: (children) => {
        this.loaded = true;
        this.current = children;
        this.emit('change', children);
      },
      onError: (error, failures) => this.emit('error', error, failures),
    });
  }

  get ready(): boolean {
    return this.loaded;
  }

  get children(): ReadonlyMap<string, T> {
    return this.current;
  }

  start(): void {
    this.loop.start();
  }

  /** Reads the children and their data again now. */
  refresh(): void {
    this.loop.request();
  }

  async idle(): Promise<void> {
    await this.loop.idle();
  }

  async close(): Promise<void> {
    await this.loop.close();
  }
}
