import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import {
  LeaderElection,
  type SessionKeeper,
  type ZkLayout,
  type ZkSession,
  type ZkSessionState,
} from '../core/index.js';
import { ClientStateError, InvalidOptionsError, SdkWarning } from './errors.js';
import type { SdkLogger } from './sdk-logger.js';
import type { SharedSession } from './shared-session.js';

/**
 * The right to act as the active instance, for one term. Check `isValid()` before each step of the
 * work (it turns false the moment activity may have been lost: a lost connection, a lost session, a
 * deleted node, close()), or listen to `signal`; `confirm()` asks ZooKeeper itself, for a step that
 * must not run twice.
 */
export interface Lease {
  /** The election's name. */
  readonly name: string;
  /** Counts this instance's terms as active, from 1. */
  readonly term: number;
  /** Aborted when the term ends. */
  readonly signal: AbortSignal;
  /** True while this instance may act: it leads, and its session is connected. */
  isValid(): boolean;
  /** Still valid, and ZooKeeper still holds this term's candidate node (one round trip). */
  confirm(): Promise<boolean>;
}

export type ActiveStandbyState = 'connecting' | 'standby' | 'active' | 'closed';

export interface ElectHandlers {
  /** This instance became the active one; work while `lease.isValid()`. A throw or rejection is a LISTENER_FAILED warning. */
  readonly onActive?: (lease: Lease) => unknown;
  /** This instance is (again) a standby: it joined behind another, or its lease ended. */
  readonly onStandby?: () => unknown;
  /** What the candidate node holds, shown as the holder (`cairn status`, `activeId()`). Default: host-pid. */
  readonly candidateId?: string;
}

export interface ActiveStandbyContext {
  readonly keeper: SessionKeeper;
  /** Records the election with what closes it (a CairnClient, a ServiceConfig); returns the function that forgets it. */
  readonly attach: SharedSession['attach'];
  readonly layout: ZkLayout;
  readonly service: string;
  readonly env: string;
  readonly requestTimeoutMs: number;
  readonly logger: SdkLogger;
}

const ELECTION_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/**
 * One active instance among a service's instances in an environment (active/standby), on core's
 * fenced LeaderElection: the candidate with the lowest ephemeral sequential node under
 * `/elections/<service>/<env>/<name>` is active. Activity ends — the lease turns invalid and
 * `onStandby` runs — as soon as it may have been lost: on disconnection (the server may expire the
 * session meanwhile and elect another), session expiry, or the node's deletion. A dead instance's
 * node vanishes with its session, so a standby takes over within the session timeout.
 */
export class ActiveStandby extends EventEmitter<{ state: [ActiveStandbyState]; warning: [SdkWarning] }> {
  readonly name: string;
  private readonly context: ActiveStandbyContext;
  private readonly handlers: ElectHandlers;
  private readonly candidateId: string;
  private readonly detach: () => void;
  private election: LeaderElection | undefined;
  private current: ActiveStandbyState = 'connecting';
  private lease: { readonly lease: Lease; readonly controller: AbortController } | undefined;
  private terms = 0;
  private standbyAnnounced = false;
  private joined: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly onSession = (session: ZkSession) => this.join(session);
  private readonly onKeeperState = (state: ZkSessionState) => this.onState(state);

  constructor(name: string, handlers: ElectHandlers, context: ActiveStandbyContext) {
    super();
    if (typeof name !== 'string' || !ELECTION_NAME.test(name))
      throw new InvalidOptionsError(
        'name',
        `${JSON.stringify(name)} is not an election name (lower-case letters, digits, ".", "_" and "-", like nightly-export)`,
      );
    if (handlers === null || typeof handlers !== 'object')
      throw new InvalidOptionsError('handlers', 'give { onActive, onStandby }');
    for (const key of ['onActive', 'onStandby'] as const)
      if (handlers[key] !== undefined && typeof handlers[key] !== 'function')
        throw new InvalidOptionsError(key, 'give a function');
    this.name = name;
    this.handlers = handlers;
    this.context = context;
    this.candidateId = handlers.candidateId ?? `${hostname()}-${process.pid}`;
    this.detach = context.attach(this);
  }

  get state(): ActiveStandbyState {
    return this.current;
  }

  /** The lease while active. */
  get currentLease(): Lease | undefined {
    return this.lease?.lease;
  }

  /** Joins the election; resolves once this instance is active or a standby, or after the connect deadline. */
  async start(timeoutMs: number): Promise<this> {
    if (this.current === 'closed') throw new ClientStateError('CLIENT_CLOSED', 'this election was closed');
    const { keeper } = this.context;
    keeper.on('session', this.onSession);
    keeper.on('state', this.onKeeperState);
    keeper.start();
    const session = keeper.session;
    if (session?.state === 'connected') this.join(session);
    if (this.current === 'connecting')
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.joined = done;
      });
    return this;
  }

  /** The candidate id of the active instance, as ZooKeeper holds it now. */
  async activeId(): Promise<string | undefined> {
    return this.election?.leaderId();
  }

  /** Steps down (the lease ends, the node is removed so a standby takes over at once) and leaves the election. */
  async close(): Promise<void> {
    if (this.current === 'closed') return;
    const { keeper } = this.context;
    keeper.off('session', this.onSession);
    keeper.off('state', this.onKeeperState);
    clearTimeout(this.retryTimer);
    this.endLease();
    this.setState('closed');
    this.joined?.();
    const election = this.election;
    this.election = undefined;
    await election?.close().catch((error: unknown) => {
      this.context.logger.warn(
        { err: error, election: this.name },
        'could not remove the candidate node: it goes with the session',
      );
    });
    this.detach();
  }

  private join(session: ZkSession): void {
    if (this.current === 'closed') return;
    clearTimeout(this.retryTimer);
    const { layout, service, env } = this.context;
    const election = new LeaderElection(session, {
      dir: layout.election(service, env, this.name),
      prefix: layout.electionCandidatePrefix(service, env, this.name),
      candidatePath: (node) => layout.electionCandidate(service, env, this.name, node),
      candidateId: this.candidateId,
    });
    this.election = election;
    election.on('state', () => this.evaluate());
    election.on('reset', () => this.evaluate());
    election.start().then(
      () => this.evaluate(),
      (error: unknown) => {
        if (this.election !== election || this.current === 'closed') return;
        this.warn(
          new SdkWarning(
            'ELECTION_FAILED',
            `cannot join the election ${layout.election(service, env, this.name)}: ${(error as Error).message}; trying again`,
            { cause: error },
          ),
        );
        void election.close().catch(() => {
          // The node, if any, goes with the session.
        });
        this.retryTimer = setTimeout(() => {
          const current = this.context.keeper.session;
          if (current?.state === 'connected' && this.election === election) this.join(current);
        }, 1000);
      },
    );
  }

  private onState(state: ZkSessionState): void {
    if (state === 'disconnected' || state === 'expired') this.evaluate();
    // Reconnected within the session: the election node lived on, activity may resume.
    if (state === 'connected') this.evaluate();
  }

  /** Active exactly while the election says leader and the session is connected. */
  private evaluate(): void {
    if (this.current === 'closed') return;
    const election = this.election;
    const connected = this.context.keeper.connected;
    if (election && election.state === 'leader' && connected) {
      if (this.current !== 'active') this.activate();
      return;
    }
    this.endLease();
    const next: ActiveStandbyState =
      connected && election && election.state !== 'lost' && election.nodePath ? 'standby' : 'connecting';
    this.setState(next);
    if (next === 'standby' && !this.standbyAnnounced) {
      this.standbyAnnounced = true;
      this.call(() => this.handlers.onStandby?.());
    }
    if (next === 'standby') this.joined?.();
  }

  private activate(): void {
    const controller = new AbortController();
    const election = this.election as LeaderElection;
    const session = this.context.keeper.session as ZkSession;
    this.terms++;
    const isValid = () =>
      !controller.signal.aborted &&
      this.election === election &&
      election.state === 'leader' &&
      this.context.keeper.session === session &&
      session.state === 'connected';
    const node = election.nodePath as string;
    const lease: Lease = {
      name: this.name,
      term: this.terms,
      signal: controller.signal,
      isValid,
      confirm: async () => {
        if (!isValid()) return false;
        const stat = await session.exists(node).catch(() => undefined);
        return stat !== undefined && stat !== null && isValid();
      },
    };
    this.lease = { lease, controller };
    this.standbyAnnounced = false;
    this.setState('active');
    this.joined?.();
    this.context.logger.info(
      { service: this.context.service, env: this.context.env, election: this.name, term: lease.term },
      'active: this instance holds the election',
    );
    this.call(() => this.handlers.onActive?.(lease));
  }

  private endLease(): void {
    const held = this.lease;
    if (!held) return;
    this.lease = undefined;
    held.controller.abort();
    this.context.logger.info(
      { service: this.context.service, env: this.context.env, election: this.name, term: held.lease.term },
      'no longer active',
    );
    if (this.current !== 'closed') {
      this.standbyAnnounced = true;
      this.call(() => this.handlers.onStandby?.());
    }
  }

  private setState(state: ActiveStandbyState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('state', state);
  }

  private call(handler: () => unknown): void {
    const report = (error: unknown) =>
      this.warn(
        new SdkWarning(
          'LISTENER_FAILED',
          `an election handler of ${this.name} failed: ${(error as Error)?.message ?? String(error)}`,
          {
            cause: error,
          },
        ),
      );
    try {
      const result = handler();
      if (result instanceof Promise) result.catch(report);
    } catch (error) {
      report(error);
    }
  }

  private warn(warning: SdkWarning): void {
    this.context.logger.warn(
      {
        service: this.context.service,
        env: this.context.env,
        election: this.name,
        code: warning.code,
        err: warning,
      },
      warning.message,
    );
    if (this.listenerCount('warning') > 0) this.emit('warning', warning);
  }
}
