import { EventType } from './protocol/op-codes.js';
import type { WatchSet } from './protocol/requests.js';

/** What happened to a watched node. */
export type ZkNodeEventType = 'created' | 'deleted' | 'changed' | 'children';

export interface ZkNodeEvent {
  readonly type: ZkNodeEventType;
  readonly path: string;
}

export type WatchListener = (event: ZkNodeEvent) => void;

/** One-shot watches, as getData, exists and getChildren set them. */
export type OneShotKind = 'data' | 'exist' | 'child';

/** Watches addWatch sets: they fire on every change until removed, and survive reconnects. */
export type PersistentMode = 'persistent' | 'persistent-recursive';

const EVENT_TYPES: Readonly<Record<number, ZkNodeEventType>> = {
  [EventType.nodeCreated]: 'created',
  [EventType.nodeDeleted]: 'deleted',
  [EventType.nodeDataChanged]: 'changed',
  [EventType.nodeChildrenChanged]: 'children',
};

/**
 * The watches a session holds, by client path, with the Java client's semantics
 * (ZKWatchManager.materialize): a one-shot watch fires once and is gone; a persistent watch fires
 * for its node, a persistent-recursive one for its node and every descendant (never for children
 * changes); a listener set several ways for one event fires once. Several listeners per path.
 */
export class WatchRegistry {
  private readonly oneShot: Record<OneShotKind, Map<string, Set<WatchListener>>> = {
    data: new Map(),
    exist: new Map(),
    child: new Map(),
  };
  private readonly persistent: Record<PersistentMode, Map<string, Set<WatchListener>>> = {
    persistent: new Map(),
    'persistent-recursive': new Map(),
  };

  add(kind: OneShotKind | PersistentMode, path: string, listener: WatchListener): void {
    const table = this.table(kind);
    let listeners = table.get(path);
    if (!listeners) {
      listeners = new Set();
      table.set(path, listeners);
    }
    listeners.add(listener);
  }

  /** Removes one listener; returns whether the path has no watch of any kind left. */
  remove(kind: OneShotKind | PersistentMode, path: string, listener: WatchListener): boolean {
    const table = this.table(kind);
    const listeners = table.get(path);
    if (listeners?.delete(listener) && listeners.size === 0) table.delete(path);
    return !this.watches(path);
  }

  /** Whether any watch of any kind is set on `path`. */
  watches(path: string): boolean {
    return (
      this.oneShot.data.has(path) ||
      this.oneShot.exist.has(path) ||
      this.oneShot.child.has(path) ||
      this.persistent.persistent.has(path) ||
      this.persistent['persistent-recursive'].has(path)
    );
  }

  /**
   * The listeners a server notification triggers, each once, with the event to give them; one-shot
   * watches it triggers are removed. Undefined for a notification no node watch takes (a state change).
   */
  materialize(
    eventType: number,
    path: string,
  ): { event: ZkNodeEvent; listeners: WatchListener[] } | undefined {
    const type = EVENT_TYPES[eventType];
    if (!type) return undefined;
    const result = new Set<WatchListener>();
    const take = (table: Map<string, Set<WatchListener>>) => {
      const listeners = table.get(path);
      if (!listeners) return;
      table.delete(path);
      for (const listener of listeners) result.add(listener);
    };
    if (type === 'created' || type === 'changed' || type === 'deleted') {
      take(this.oneShot.data);
      take(this.oneShot.exist);
    }
    if (type === 'children' || type === 'deleted') take(this.oneShot.child);
    for (const listener of this.persistent.persistent.get(path) ?? []) result.add(listener);
    const recursive = this.persistent['persistent-recursive'];
    if (type !== 'children' && recursive.size > 0) {
      for (let at = path; ; at = parentOf(at)) {
        for (const listener of recursive.get(at) ?? []) result.add(listener);
        if (at === '/') break;
      }
    }
    return { event: { type, path }, listeners: [...result] };
  }

  /** Every watched path by kind, to set them again on a new connection. */
  snapshot(): WatchSet {
    return {
      data: [...this.oneShot.data.keys()],
      exist: [...this.oneShot.exist.keys()],
      child: [...this.oneShot.child.keys()],
      persistent: [...this.persistent.persistent.keys()],
      persistentRecursive: [...this.persistent['persistent-recursive'].keys()],
    };
  }

  get empty(): boolean {
    return (
      this.oneShot.data.size === 0 &&
      this.oneShot.exist.size === 0 &&
      this.oneShot.child.size === 0 &&
      this.persistent.persistent.size === 0 &&
      this.persistent['persistent-recursive'].size === 0
    );
  }

  /** Forgets every watch: the session that held them is gone. */
  clear(): void {
    for (const table of [...Object.values(this.oneShot), ...Object.values(this.persistent)]) table.clear();
  }

  private table(kind: OneShotKind | PersistentMode): Map<string, Set<WatchListener>> {
    return kind === 'persistent' || kind === 'persistent-recursive'
      ? this.persistent[kind]
      : this.oneShot[kind];
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}
