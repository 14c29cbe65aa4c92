import { EventEmitter } from 'node:events';
import {
  type EnvironmentRead,
  type HeldSnapshot,
  isNewerSnapshot,
  readEnvironment,
} from '../environment-reader.js';
import type { ZkLayout } from '../zk-layout.js';
import type { SessionKeeper } from '../zookeeper/session-keeper.js';
import { WatchedRead } from './watched-read.js';

export interface EnvironmentWatchOptions {
  readonly keeper: SessionKeeper;
  readonly layout: ZkLayout;
  readonly service: string;
  readonly env: string;
  /** The host the consumer serves: during a configuration rollout, its assignment is followed. */
  readonly host?: string;
  /** Content the consumer holds besides the last snapshot (a cache it started from), by content id. */
  readonly known?: () => ReadonlyMap<string, Uint8Array> | undefined;
  /**
   * A whole snapshot the consumer holds (a cache it started from): a pointer naming its manifest
   * confirms it. A promise (a cache still being read) is awaited after the pointer is read.
   */
  readonly held?: () => HeldSnapshot | PromiseLike<HeldSnapshot | undefined> | undefined;
  /**
   * Awaited before each read after the first, before what is held is looked at: a consumer still
   * checking content it handed over (a cache's files against their ids) finishes, and forgets what
   * failed (forget()), before the watch lends it to the next read.
   */
  readonly settle?: () => PromiseLike<unknown> | undefined;
  /** How often the pointer's mzxid is compared even without a watch firing. Default 30 s. */
  readonly resyncIntervalMs?: number;
}

export type EnvironmentWatchEvents = {
  /** The first read, then every read that found a newer snapshot or a change of presence. */
  read: [EnvironmentRead];
  /** A read failed; it is retried with backoff. `failures` counts failures in a row. */
  error: [unknown, number];
};

/**
 * Follows one environment through its pointer alone — one watch per environment, whatever the
 * number of files — so a commit to another service wakes nothing here. Each change of the pointer
 * reads the snapshot it names; content already held is not read again. Several watches may share
 * one session (the agent follows every environment of its host on one).
 */
export class EnvironmentWatch extends EventEmitter<EnvironmentWatchEvents> {
  private readonly options: EnvironmentWatchOptions;
  private readonly loop: WatchedRead<EnvironmentRead>;
  private last: EnvironmentRead | undefined;

  constructor(options: EnvironmentWatchOptions) {
    super();
    this.options = options;
    const { keeper, layout, service, env, host } = options;
    const pointer = layout.environment(service, env);
    const assignment = host !== undefined ? layout.assignment(service, env, host) : undefined;
    this.loop = new WatchedRead({
      keeper,
      read: async (session, watch) => {
        if (this.last) await options.settle?.();
        const held = this.held();
        const known = () => this.known();
        return readEnvironment(session, layout, service, env, {
          ...(watch ? { watch } : {}),
          ...(host !== undefined ? { host } : {}),
          ...(held ? { held } : {}),
          // Built only when the pointer does not confirm what is held: thousands of entries.
          get known() {
            return known();
          },
        });
      },
      onRead: (read) => this.onRead(read),
      onError: (error, failures) => this.emit('error', error, failures),
      resync: {
        intervalMs: options.resyncIntervalMs ?? 30_000,
        changed: async (session) => {
          const stat = await session.exists(pointer);
          const last = this.last;
          if (last?.kind !== 'snapshot') return stat !== undefined;
          if (stat?.mzxid !== last.snapshot.stat.mzxid) return true;
          if (!assignment || !last.snapshot.pointer.rollout) return false;
          return (await session.exists(assignment))?.mzxid !== last.snapshot.assignmentStat?.mzxid;
        },
      },
    });
  }

  /** The last read delivered. */
  get current(): EnvironmentRead | undefined {
    return this.last;
  }

  start(): void {
    this.loop.start();
  }

  /**
   * Drops the last read, so the next read holds only what the consumer offers (`held`, `known`) and
   * is delivered whatever it finds: for content found damaged after it was handed over.
   */
  forget(): void {
    this.last = undefined;
  }

  /** Reads again now (or once more after the read in progress). */
  request(): void {
    this.loop.request();
  }

  async close(): Promise<void> {
    await this.loop.close();
  }

  private onRead(read: EnvironmentRead): void {
    const last = this.last;
    if (last && read.kind === 'snapshot' && last.kind === 'snapshot') {
      // A lagging server (a new session may land on one) can show an older pointer: never go back.
      if (!isNewerSnapshot(read.snapshot, last.snapshot)) return;
    } else if (last && read.kind === 'absent' && last.kind === 'absent' && read.mirrored === last.mirrored) {
      return;
    }
    this.last = read;
    this.emit('read', read);
  }

  private held(): HeldSnapshot | PromiseLike<HeldSnapshot | undefined> | undefined {
    const last = this.last?.kind === 'snapshot' ? this.last.snapshot : undefined;
    return last ? { ...last, manifest: last.pointer.manifest } : this.options.held?.();
  }

  private known(): ReadonlyMap<string, Uint8Array> | undefined {
    const extra = this.options.known?.();
    const last = this.last?.kind === 'snapshot' ? this.last.snapshot : undefined;
    if (!last) return extra;
    const held = new Map<string, Uint8Array>(extra ?? []);
    if (last.manifestBytes) held.set(last.pointer.manifest, last.manifestBytes);
    for (const [path, id] of last.contentIds) held.set(id, last.files.get(path) as Uint8Array);
    return held;
  }
}
