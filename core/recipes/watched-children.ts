import { EventEmitter } from 'node:events';
import type { SessionKeeper } from '../zookeeper/session-keeper.js';
import { ChildrenCache } from './children-cache.js';
import { NodeCache } from './node-cache.js';

export interface WatchedChildrenOptions<T> {
  readonly keeper: SessionKeeper;
  /** The folder whose children are followed. */
  readonly path: string;
  /** The path of a child, by the name `getChildren` lists. */
  readonly childPath: (name: string) => string;
  readonly decode: (data: Uint8Array, path: string) => T;
  /** A child whose data cannot be decoded: left out until it can. */
  readonly onSkipped?: (path: string, error: unknown) => void;
}

/**
 * The children of a folder and their data, every change seen (Curator's PathChildrenCache with data):
 * membership through one children watch, each child's data through a NodeCache of its own. For a
 * few hundred children (the services of the service tree); a folder of thousands wants a
 * persistent recursive watch instead.
 */
export class WatchedChildren<T> extends EventEmitter<{
  change: [ReadonlyMap<string, T>];
  error: [unknown, number];
}> {
  private readonly options: WatchedChildrenOptions<T>;
  private readonly members: ChildrenCache<null>;
  private readonly nodes = new Map<string, NodeCache<T | undefined>>();
  private closed = false;

  constructor(options: WatchedChildrenOptions<T>) {
    super();
    this.options = options;
    this.members = new ChildrenCache({
      keeper: options.keeper,
      path: options.path,
      childPath: options.childPath,
      decode: () => null,
    });
    this.members.on('change', (children) => this.follow([...children.keys()]));
    this.members.on('error', (error, failures) => this.emit('error', error, failures));
  }

  /** Whether membership and every member's data have been read once. */
  get ready(): boolean {
    return this.members.ready && [...this.nodes.values()].every((node) => node.ready);
  }

  /** Every child whose data decodes, by name. */
  get children(): ReadonlyMap<string, T> {
    const out = new Map<string, T>();
    for (const [name, node] of this.nodes) {
      const value = node.node?.value;
      if (value !== undefined) out.set(name, value);
    }
    return out;
  }

  start(): void {
    this.members.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.members.close();
    await Promise.all([...this.nodes.values()].map((node) => node.close()));
    this.nodes.clear();
  }

  private follow(names: readonly string[]): void {
    if (this.closed) return;
    const wanted = new Set(names);
    for (const [name, node] of this.nodes) {
      if (wanted.has(name)) continue;
      this.nodes.delete(name);
      void node.close();
    }
    for (const name of wanted) {
      if (this.nodes.has(name)) continue;
      const path = this.options.childPath(name);
      const node = new NodeCache<T | undefined>({
        keeper: this.options.keeper,
        path,
        decode: (data) => {
          try {
            return this.options.decode(data, path);
          } catch (error) {
            this.options.onSkipped?.(path, error);
            return undefined;
          }
        },
      });
      node.on('change', () => this.changed());
      node.on('error', (error, failures) => this.emit('error', error, failures));
      this.nodes.set(name, node);
      node.start();
    }
    this.changed();
  }

  private changed(): void {
    if (!this.closed && this.ready) this.emit('change', this.children);
  }
}
