import { EventEmitter } from 'node:events';
import { type ElectionOptions, LeaderElection } from '../zookeeper/leader-election.js';
import type { SessionKeeper } from '../zookeeper/session-keeper.js';
import type { ZkSession } from '../zookeeper/zk-session.js';
import { CoalescingTrigger } from './coalescing-trigger.js';
import { FencedWriter, LeadershipLostError } from './fenced-writer.js';

/** One period of leadership: what a reconciler works with while this replica leads. */
export interface LeaderTerm {
  /** Counts terms of this role, from 1: reconcilers drop what they remembered when it changes. */
  readonly number: number;
  readonly session: ZkSession;
  /** Every write goes through it, fenced by this term's election node. */
  readonly writer: FencedWriter;
  /** Aborted when the term ends. */
  readonly signal: AbortSignal;
}

/**
 * A job of the leader: compares desired and actual state and writes the difference, idempotently,
 * from whatever state it finds — a new leader continues exactly where another stopped because
 * nothing depends on memory of earlier terms.
 */
export interface Reconciler {
  readonly name: string;
  /** One pass. A throw is retried with Cairn's backoff; a request while it runs makes one more pass. */
  reconcile(term: LeaderTerm): Promise<void>;
}

export type LeaderRoleState = 'connecting' | 'standby' | 'leader' | 'stopped';

export interface LeaderRoleOptions {
  readonly keeper: SessionKeeper;
  readonly election: ElectionOptions;
  readonly reconcilers: readonly Reconciler[];
  /** Runs on each new session before joining the election (creating fixed folders, say). */
  readonly prepare?: (session: ZkSession) => Promise<void>;
}

export type LeaderRoleEvents = {
  state: [LeaderRoleState];
  /** A reconciler pass failed; it is retried in `retryInMs`. */
  error: [reconciler: string, error: unknown, failures: number, retryInMs: number | undefined];
  /** The election node vanished while the session lived: the replica joined again. */
  reset: [node: string];
  /** The session could not join an election; it is closed and a new one opened. */
  joinFailed: [error: unknown];
};

/**
 * Leadership among replicas, and the reconcilers the leader runs (Curator's LeaderLatch with a job
 * list): on every session it joins the election; when elected it starts a term and runs every
 * reconciler; a lost node makes it rejoin, a lost session ends the term. Reconcilers run one pass at a
 * time each, on request (`request(name)`), at the start of each term, and again after a failure.
 */
export class LeaderRole extends EventEmitter<LeaderRoleEvents> {
  private readonly options: LeaderRoleOptions;
  private readonly triggers = new Map<string, CoalescingTrigger>();
  private election: LeaderElection | undefined;
  private term: (LeaderTerm & { readonly controller: AbortController }) | undefined;
  private terms = 0;
  private current: LeaderRoleState = 'connecting';
  private readonly onSession = (session: ZkSession) => {
    this.join(session).catch((error: unknown) => {
      // Without a place in the election this session is of no use: end it, the keeper opens another.
      this.emit('joinFailed', error);
      void session.close();
    });
  };
  private readonly onKeeperState = (state: string) => {
    if (state === 'expired' || state === 'closed') this.endTerm('connecting');
  };

  constructor(options: LeaderRoleOptions) {
    super();
    this.options = options;
    for (const reconciler of options.reconcilers) {
      const trigger = new CoalescingTrigger(() => this.run(reconciler), {
        onError: (error, failures, retryInMs) => {
          if (error instanceof LeadershipLostError) void this.election?.verify().catch(() => {});
          this.emit('error', reconciler.name, error, failures, retryInMs);
        },
      });
      this.triggers.set(reconciler.name, trigger);
    }
  }

  get state(): LeaderRoleState {
    return this.current;
  }

  /** The current election, for status (the leader's id). */
  get currentElection(): LeaderElection | undefined {
    return this.election;
  }

  start(): void {
    this.options.keeper.on('session', this.onSession);
    this.options.keeper.on('state', this.onKeeperState);
    const session = this.options.keeper.session;
    if (session?.state === 'connected') this.onSession(session);
  }

  /** Asks one reconciler (or every one) for a pass; ignored while not leading. */
  request(name?: string): void {
    if (!this.term) return;
    for (const [key, trigger] of this.triggers) if (name === undefined || key === name) trigger.request();
  }

  /** Resolves when no reconciler pass is running or pending. */
  async whenIdle(): Promise<void> {
    for (const trigger of this.triggers.values()) await trigger.idle();
  }

  /** Stops the reconcilers (a pass in progress finishes), then leaves the election so a standby takes over at once. */
  async close(): Promise<void> {
    if (this.current === 'stopped') return;
    this.options.keeper.off('session', this.onSession);
    this.options.keeper.off('state', this.onKeeperState);
    for (const trigger of this.triggers.values()) await trigger.close();
    this.endTerm('stopped');
    await this.election?.close().catch(() => {
      // Leaving failed (the session is ending): the node dies with the session anyway.
    });
  }

  private async join(session: ZkSession): Promise<void> {
    if (this.current === 'stopped') return;
    await this.options.prepare?.(session);
    const election = new LeaderElection(session, this.options.election);
    this.election = election;
    election.on('state', (state) => {
      if (this.election !== election || this.current === 'stopped') return;
      if (state === 'leader') this.beginTerm(session, election);
      else this.endTerm(state === 'lost' ? 'connecting' : 'standby');
    });
    election.on('reset', (node) => this.emit('reset', node));
    await election.start();
    if (election.state === 'candidate' && this.term === undefined) this.setState('standby');
  }

  private beginTerm(session: ZkSession, election: LeaderElection): void {
    const controller = new AbortController();
    this.terms++;
    this.term = {
      number: this.terms,
      session,
      writer: new FencedWriter(session, () => election.fence()),
      signal: controller.signal,
      controller,
    };
    this.setState('leader');
    this.request();
  }

  private endTerm(next: LeaderRoleState): void {
    this.term?.controller.abort();
    this.term = undefined;
    if (this.current !== 'stopped') this.setState(next);
  }

  private async run(reconciler: Reconciler): Promise<void> {
    const term = this.term;
    if (!term || term.signal.aborted) return;
    await reconciler.reconcile(term);
  }

  private setState(state: LeaderRoleState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('state', state);
  }
}
