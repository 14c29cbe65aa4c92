import { EventEmitter } from 'node:events';
import {
  type LoadBalancing,
  SessionKeeper,
  ZkError,
  type ZkSession,
  type ZkSessionState,
} from '../core/index.js';
import {
  type ResolvedZooKeeperOptions,
  resolveZooKeeperOptions,
  type ZooKeeperOptions,
} from './connect-options.js';
import { ConsistentHashRing } from './consistent-hash-ring.js';
import { ClientStateError, SdkWarning, ZooKeeperUnreachableError } from './errors.js';
import { decodeInstanceRecord, type InstanceRecord } from './instance-record.js';
import { SmoothWeightedRoundRobin } from './smooth-weighted-round-robin.js';
import type { WeightedItem } from './weighted-item.js';

export type DiscoverOptions = ZooKeeperOptions;

/** A live instance of the service, weighted by the service tree. */
export interface ServiceInstance extends WeightedItem {
  readonly id: string;
  /** `host:port` (or the id for an instance without a port): stable across restarts, what hashing uses. */
  readonly key: string;
  readonly host: string;
  readonly port: number | undefined;
  /** The host's weight in the service tree; DEFAULT_WEIGHT for a host the tree does not list. */
  readonly weight: number;
  /** Whether the service tree lists this host for the environment. */
  readonly listed: boolean;
  readonly labels: Readonly<Record<string, string>>;
  /** The commit the instance applied, as of the last membership change or refresh(). */
  readonly commit: string | undefined;
  readonly record: InstanceRecord;
}

/** Chooses an instance per request; follows membership and weight changes. */
export interface InstancePicker {
  readonly strategy: LoadBalancing;
  /** With consistent hashing, `key` (a user id, a cache key) decides; round-robin ignores it. */
  pick(key?: string): ServiceInstance | undefined;
}

/** The weight the config repository gives a host without one, and so an instance on an unlisted host. */
export const DEFAULT_WEIGHT = 100;

interface TreeEnvironment {
  readonly loadBalancing: LoadBalancing;
  readonly hosts: ReadonlyMap<string, { weight: number; labels: Readonly<Record<string, string>> }>;
}

/**
 * The live instances of one service in one environment: membership from the ephemeral nodes under
 * `/instances/<service>/<env>/`, weights and the load-balancing strategy from the service tree
 * (`/services/<service>`). Two watches (the instance folder's children and the service node), re-read
 * on every new session and reconnection.
 */
export class ServiceDiscovery extends EventEmitter<{
  change: [readonly ServiceInstance[]];
  warning: [SdkWarning];
}> {
  private readonly options: ResolvedZooKeeperOptions;
  private readonly keeper: SessionKeeper;
  private current: readonly ServiceInstance[] = [];
  private tree: TreeEnvironment = { loadBalancing: 'weighted-round-robin', hosts: new Map() };
  private version = 0;
  private reading: Promise<void> | undefined;
  private again = false;
  private treeArmed = false;
  private membersArmed = false;
  private loaded = false;
  private onLoaded: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private readonly onTreeChanged = () => {
    this.treeArmed = false;
    this.request();
  };
  private readonly onMembersChanged = () => {
    this.membersArmed = false;
    this.request();
  };

  constructor(options: DiscoverOptions) {
    super();
    this.options = resolveZooKeeperOptions(options);
    const { connectString, sessionTimeoutMs, requestTimeoutMs, connectTimeoutMs } = this.options;
    this.keeper = new SessionKeeper({
      connectString,
      sessionTimeoutMs,
      requestTimeoutMs,
      connectAttemptMs: connectTimeoutMs,
    });
    this.keeper.on('session', () => this.rearm());
    this.keeper.on('state', (state: ZkSessionState) => {
      if (state === 'connected') this.rearm();
    });
  }

  /** Resolves after the first complete read; rejects with ZooKeeperUnreachableError after connectTimeoutMs. */
  async start(): Promise<this> {
    const { connectTimeoutMs, connectString } = this.options;
    this.keeper.start();
    if (!this.loaded) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, connectTimeoutMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.onLoaded = done;
      });
    }
    if (!this.loaded) {
      const connected = this.keeper.connected;
      await this.close();
      throw new ZooKeeperUnreachableError(
        connectString,
        connectTimeoutMs,
        connected ? 'connected, but the instances could not be read' : 'could not connect',
        undefined,
      );
    }
    return this;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.onLoaded?.();
    await this.keeper.close();
  }

  /** The live instances, sorted by key. */
  instances(): readonly ServiceInstance[] {
    return this.current;
  }

  /** The strategy the service tree sets for this environment. */
  get loadBalancing(): LoadBalancing {
    return this.tree.loadBalancing;
  }

  /** A picker over the live instances, by the service tree's strategy unless one is named. */
  picker(strategy: LoadBalancing = this.tree.loadBalancing): InstancePicker {
    if (strategy === 'consistent-hash') {
      let ring: ConsistentHashRing<ServiceInstance> | undefined;
      let builtFor = -1;
      return {
        strategy,
        pick: (key) => {
          if (typeof key !== 'string')
            throw new TypeError('a consistent-hash picker needs a key: pick(userId), for example');
          if (!ring || builtFor !== this.version) {
            ring = new ConsistentHashRing(this.current);
            builtFor = this.version;
          }
          return ring.get(key);
        },
      };
    }
    if (strategy !== 'weighted-round-robin')
      throw new TypeError(`unknown load-balancing strategy ${strategy}`);
    const rotation = new SmoothWeightedRoundRobin<ServiceInstance>(this.current);
    let builtFor = this.version;
    return {
      strategy,
      pick: () => {
        if (builtFor !== this.version) {
          rotation.update(this.current);
          builtFor = this.version;
        }
        return rotation.pick();
      },
    };
  }

  /** Reads everything again now (instance records' commits are not watched, only membership). */
  async refresh(): Promise<void> {
    if (this.closed) throw new ClientStateError('CLIENT_CLOSED', 'this discovery is closed');
    this.request();
    while (this.reading) await this.reading;
  }

  /** After a new session or a reconnection, read everything again and set both watches anew. */
  private rearm(): void {
    this.treeArmed = false;
    this.membersArmed = false;
    this.request();
  }

  private request(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    clearTimeout(this.retryTimer);
    this.reading = (async () => {
      do {
        this.again = false;
        const session = this.keeper.session;
        if (session?.state !== 'connected') return;
        try {
          await this.read(session);
          this.failures = 0;
        } catch (error) {
          this.treeArmed = false;
          this.membersArmed = false;
          if (this.failures++ === 0)
            this.warn(
              new SdkWarning(
                'SNAPSHOT_READ_FAILED',
                `cannot read the instances of ${this.options.service}/${this.options.env}: ${(error as Error).message}; retrying`,
                { cause: error },
              ),
            );
          this.retryTimer = setTimeout(() => this.request(), Math.min(30_000, 250 * 2 ** this.failures));
          this.retryTimer.unref();
          return;
        }
      } while (this.again && !this.closed);
    })().finally(() => {
      this.reading = undefined;
    });
  }

  private async read(session: ZkSession): Promise<void> {
    const { layout, service, env } = this.options;
    // Armed before the reads: a watch that fires during them leaves its flag false for the next read.
    const treeWatch = this.treeArmed ? undefined : this.onTreeChanged;
    const membersWatch = this.membersArmed ? undefined : this.onMembersChanged;
    this.treeArmed = true;
    this.membersArmed = true;
    const tree = await this.readTree(session, treeWatch);
    const dir = layout.instances(service, env);
    let ids: string[];
    try {
      ids = (await session.children(dir, membersWatch)).children;
    } catch (error) {
      if (!(error instanceof ZkError && error.code === 'NO_NODE')) throw error;
      // No instance ever registered: learn when the folder appears.
      if (await session.exists(dir, membersWatch)) {
        this.membersArmed = false;
        return this.request();
      }
      ids = [];
    }
    const records = await Promise.all(
      ids.map(async (id) => {
        try {
          return { id, data: (await session.get(layout.instance(service, env, id))).data };
        } catch (error) {
          if (error instanceof ZkError && error.code === 'NO_NODE') return undefined; // died meanwhile
          throw error;
        }
      }),
    );
    const instances: ServiceInstance[] = [];
    for (const entry of records) {
      if (!entry) continue;
      const record = decodeInstanceRecord(entry.data);
      if (!record) {
        this.warn(
          new SdkWarning(
            'INSTANCE_UNREADABLE',
            `${layout.instance(service, env, entry.id)} does not hold an instance record: skipped`,
          ),
        );
        continue;
      }
      const listed = tree.hosts.get(record.host);
      instances.push({
        id: entry.id,
        key: record.port !== undefined ? `${record.host}:${record.port}` : entry.id,
        host: record.host,
        port: record.port,
        weight: listed?.weight ?? DEFAULT_WEIGHT,
        listed: listed !== undefined,
        labels: listed?.labels ?? {},
        commit: record.commit,
        record,
      });
    }
    instances.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.tree = tree;
    const changed = fingerprint(instances) !== fingerprint(this.current);
    this.current = instances;
    if (changed) this.version++;
    if (!this.loaded) {
      this.loaded = true;
      this.onLoaded?.();
    } else if (changed) {
      this.emit('change', instances);
    }
  }

  private warn(warning: SdkWarning): void {
    const { service, env, logger } = this.options;
    logger.warn({ service, env, code: warning.code, err: warning }, warning.message);
    this.emit('warning', warning);
  }

  private async readTree(session: ZkSession, watch: (() => void) | undefined): Promise<TreeEnvironment> {
    const path = this.options.layout.service(this.options.service);
    let data: Buffer;
    try {
      data = (await session.get(path, watch)).data;
    } catch (error) {
      if (!(error instanceof ZkError && error.code === 'NO_NODE')) throw error;
      await session.exists(path, watch);
      return { loadBalancing: 'weighted-round-robin', hosts: new Map() };
    }
    return treeEnvironment(data, this.options.env);
  }
}

/** The environment's strategy and host weights from a `/services/<service>` record. */
function treeEnvironment(data: Uint8Array, env: string): TreeEnvironment {
  let record: { environments?: Record<string, { loadBalancing?: unknown; hosts?: unknown }> };
  try {
    record = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return { loadBalancing: 'weighted-round-robin', hosts: new Map() };
  }
  const environment = record?.environments?.[env];
  const hosts = new Map<string, { weight: number; labels: Record<string, string> }>();
  for (const entry of Array.isArray(environment?.hosts) ? environment.hosts : []) {
    const host = entry as { host?: unknown; weight?: unknown; labels?: unknown };
    if (typeof host.host !== 'string') continue;
    const weight =
      typeof host.weight === 'number' && Number.isFinite(host.weight) && host.weight >= 0
        ? host.weight
        : DEFAULT_WEIGHT;
    const labels =
      host.labels && typeof host.labels === 'object' ? (host.labels as Record<string, string>) : {};
    hosts.set(host.host, { weight, labels });
  }
  return {
    loadBalancing:
      environment?.loadBalancing === 'consistent-hash' ? 'consistent-hash' : 'weighted-round-robin',
    hosts,
  };
}

function fingerprint(instances: readonly ServiceInstance[]): string {
  return instances.map((i) => `${i.id}|${i.key}|${i.weight}|${i.commit}`).join('\n');
}
