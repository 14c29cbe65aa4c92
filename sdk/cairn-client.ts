import { SessionKeeper } from '../core/index.js';
import { ActiveStandby, type ElectHandlers } from './active-standby.js';
import {
  type ConnectOptions,
  type ResolvedSessionOptions,
  resolveServiceSelector,
  resolveSessionOptions,
  type ServiceSelector,
  type SessionOptions,
} from './connect-options.js';
import { ClientStateError } from './errors.js';
import { ServiceConfig } from './service-config.js';
import { type DiscoverOptions, ServiceDiscovery } from './service-discovery.js';
import type { SessionUse, SharedSession } from './shared-session.js';

/** A CairnClient's session, and the service and environment its uses default to. */
export interface CairnClientOptions extends SessionOptions, ServiceSelector {}

/** What `client.config()` takes: connect()'s options without the session's. */
export type ConfigOptions = Omit<ConnectOptions, keyof SessionOptions>;

/**
 * One ZooKeeper session for everything a process does with Cairn: its configuration, the
 * instances of the services it calls, its elections. Each use watches and registers over the same
 * session (one connection, one heartbeat, one expiry to recover from) and is closed on its own or
 * with the client.
 *
 * ```ts
 * const cairn = new CairnClient({ zk: 'zk1:2181', service: 'recommender', env: 'prod' });
 * const cfg = await cairn.config({ cacheDir: '/var/cache/recommender' });
 * const search = await cairn.discover({ service: 'search-api' });
 * await cairn.close();
 * ```
 */
export class CairnClient {
  private readonly options: CairnClientOptions;
  private readonly resolved: ResolvedSessionOptions;
  private readonly keeper: SessionKeeper;
  private readonly attemptListeners = new Set<(error: unknown, failures: number) => void>();
  private readonly uses = new Set<SessionUse>();
  private readonly shared: SharedSession;
  private closed = false;

  /** Checks the options (see connect()); connects with the first use. */
  constructor(options: CairnClientOptions = {}) {
    this.resolved = resolveSessionOptions(options);
    this.options = { ...options };
    this.keeper = new SessionKeeper({
      endpoint: this.resolved.endpoint,
      onAttemptFailed: (error, failures) => {
        for (const listener of [...this.attemptListeners]) listener(error, failures);
      },
    });
    this.shared = {
      keeper: this.keeper,
      onAttemptFailed: (listener) => {
        this.attemptListeners.add(listener);
        return () => this.attemptListeners.delete(listener);
      },
      attach: (use) => {
        this.uses.add(use);
        return () => this.uses.delete(use);
      },
    };
  }

  /** The id of the session every use shares (hex), once connected. */
  get sessionId(): string | undefined {
    return this.keeper.session?.sessionId;
  }

  get connected(): boolean {
    return this.keeper.connected;
  }

  /** A service's configuration over this client's session; service and env default to the client's. */
  async config(options: ConfigOptions = {}): Promise<ServiceConfig> {
    this.requireOpen();
    const config = new ServiceConfig({ ...this.options, ...options }, this.shared);
    return config.start();
  }

  /** The live instances of a service over this client's session; service and env default to the client's. */
  async discover(selector: ServiceSelector = {}): Promise<ServiceDiscovery> {
    this.requireOpen();
    const options: DiscoverOptions = { ...this.options, ...selector };
    return new ServiceDiscovery(options, this.shared).start();
  }

  /**
   * Joins the active/standby election `name` among the instances of a service in an environment
   * (the client's unless given): see ServiceConfig.elect.
   */
  async elect(name: string, handlers: ElectHandlers, selector: ServiceSelector = {}): Promise<ActiveStandby> {
    this.requireOpen();
    const { service, env } = resolveServiceSelector({ ...this.options, ...selector });
    const { layout, requestTimeoutMs, logger, connectTimeoutMs } = this.resolved;
    const election = new ActiveStandby(name, handlers, {
      keeper: this.keeper,
      attach: this.shared.attach,
      layout,
      service,
      env,
      requestTimeoutMs,
      logger,
    });
    return election.start(connectTimeoutMs);
  }

  /** Closes every use (configs deregister, elections step down), then the session. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.uses].map((use) => use.close()));
    await this.keeper.close();
  }

  private requireOpen(): void {
    if (this.closed)
      throw new ClientStateError('CLIENT_CLOSED', 'this CairnClient is closed: create a new one');
  }
}
