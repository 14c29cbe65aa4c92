import { EventEmitter } from 'node:events';
import {
  ChildrenCache,
  DEFAULT_HOST_WEIGHT,
  DEFAULT_LOAD_BALANCING,
  decodeInstanceRecord,
  decodeServiceRecord,
  type InstanceRecord,
  type LoadBalancing,
  NodeCache,
  type ServiceRecord,
  SessionKeeper,
} from '../core/index.js';
import {
  type ResolvedZooKeeperOptions,
  resolveZooKeeperOptions,
  type ZooKeeperOptions,
} from './connect-options.js';
import { ConsistentHashRing } from './consistent-hash-ring.js';
import { ClientStateError, SdkWarning, ZooKeeperUnreachableError } from './errors.js';
import type { SharedSession } from './shared-session.js';
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
export const DEFAULT_WEIGHT = DEFAULT_HOST_WEIGHT;

interface TreeEnvironment {
  readonly loadBalancing: LoadBalancing;
  readonly hosts: ReadonlyMap<string, { weight: number; labels: Readonly<Record<string, string>> }>;
}

const UNLISTED: TreeEnvironment = { loadBalancing: DEFAULT_LOAD_BALANCING, hosts: new Map() };

/**
 * The live instances of one service in one environment: membership from the ephemeral nodes under
 * `/instances/<service>/<env>/` (core's ChildrenCache), weights and the load-balancing strategy from
 * the service tree (`/services/<service>`, core's NodeCache). Two watches, re-read on every new
 * session and reconnection.
 */
export class ServiceDiscovery extends EventEmitter<{
  change: [readonly ServiceInstance[]];
  warning: [SdkWarning];
}> {
  private readonly options: ResolvedZooKeeperOptions;
  private readonly keeper: SessionKeeper;
  private readonly detach: (() => void) | undefined;
  private readonly tree: NodeCache<ServiceRecord>;
  private readonly members: ChildrenCache<InstanceRecord>;
  private current: readonly ServiceInstance[] = [];
  private version = 0;
  private loaded = false;
  private onLoaded: (() => void) | undefined;
  private closed = false;

  /** `shared`: the session of a CairnClient, for `client.discover()`; without it, a session of its own. */
  constructor(options: DiscoverOptions, shared?: SharedSession) {
    super();
    this.options = resolveZooKeeperOptions(options);
    const { endpoint, layout, service, env } = this.options;
    this.keeper = shared?.keeper ?? new SessionKeeper({ endpoint });
    this.detach = shared?.attach(this);
    this.tree = new NodeCache({
      keeper: this.keeper,
      path: layout.service(service),
      decode: decodeServiceRecord,
    });
    this.members = new ChildrenCache({
      keeper: this.keeper,
      path: layout.instances(service, env),
      childPath: (id) => layout.instance(service, env, id),
      decode: decodeInstanceRecord,
      onSkipped: (path) =>
        this.warn(new SdkWarning('INSTANCE_UNREADABLE', `${path} does not hold an instance record: skipped`)),
    });
    const failed = (what: string) => (error: unknown, failures: number) => {
      if (failures === 1)
        this.warn(
          new SdkWarning(
            'SNAPSHOT_READ_FAILED',
            `cannot read the ${what} of ${service}/${env}: ${(error as Error).message}; retrying`,
            { cause: error },
          ),
        );
    };
    this.tree.on('error', failed('service tree'));
    this.members.on('error', failed('instances'));
    this.tree.on('change', () => this.recompute());
    this.members.on('change', () => this.recompute());
  }

  /** Resolves after the first complete read; rejects with ZooKeeperUnreachableError after connectTimeoutMs. */
  async start(): Promise<this> {
    const { connectTimeoutMs, connectString } = this.options;
    this.tree.start();
    this.members.start();
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
    this.onLoaded?.();
    const closing = Promise.all([this.tree.close(), this.members.close()]);
    if (this.detach) this.detach();
    else await this.keeper.close();
    await closing;
  }

  /** The live instances, sorted by key. */
  instances(): readonly ServiceInstance[] {
    return this.current;
  }

  /** The strategy the service tree sets for this environment. */
  get loadBalancing(): LoadBalancing {
    return this.treeEnvironment().loadBalancing;
  }

  /** A picker over the live instances, by the service tree's strategy unless one is named. */
  picker(strategy: LoadBalancing = this.loadBalancing): InstancePicker {
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
    this.tree.request();
    this.members.refresh();
    await Promise.all([this.tree.idle(), this.members.idle()]);
  }

  private treeEnvironment(): TreeEnvironment {
    const environment = this.tree.node?.value.environments[this.options.env];
    if (!environment) return UNLISTED;
    return {
      loadBalancing: environment.loadBalancing,
      hosts: new Map(environment.hosts.map((h) => [h.host, { weight: h.weight, labels: h.labels }])),
    };
  }

  private recompute(): void {
    if (!this.tree.ready || !this.members.ready || this.closed) return;
    const tree = this.treeEnvironment();
    const instances: ServiceInstance[] = [];
    for (const [id, record] of this.members.children) {
      const listed = tree.hosts.get(record.host);
      instances.push({
        id,
        key: record.port !== undefined ? `${record.host}:${record.port}` : id,
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
}

function fingerprint(instances: readonly ServiceInstance[]): string {
  return instances.map((i) => `${i.id}|${i.key}|${i.weight}|${i.commit}`).join('\n');
}
