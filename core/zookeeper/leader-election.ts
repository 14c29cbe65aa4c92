import { EventEmitter } from 'node:events';
import { ZkError } from './zk-error.js';
import type { ZkSession } from './zk-session.js';

export type ElectionState = 'candidate' | 'leader' | 'lost';

/** Where an election's nodes live; the paths come from ZkLayout. */
export interface ElectionOptions {
  /** The folder of candidate nodes. */
  readonly dir: string;
  /** What ZooKeeper appends a sequence number to, for a new candidate node. */
  readonly prefix: string;
  /** A candidate node's path, by the name `getChildren` lists. */
  readonly candidatePath: (name: string) => string;
  /** What the candidate's node holds: its name in status displays. */
  readonly candidateId: string;
}

/**
 * Leader election over one session (ZooKeeper's recipe, as in Curator's LeaderLatch): every
 * candidate creates an ephemeral sequential node; the lowest is the leader; each other candidate
 * watches only its predecessor, so a leader's death wakes one candidate, not all of them.
 *
 * When its node vanishes while the session lives (deleted by hand, or by an operator's tool), it
 * drops back to candidate and joins again with a new node, as Curator's LeaderLatch resets; it
 * announces that with `reset`. Leadership ends for good with the session: on expiry or close the
 * election reports `lost`; start a new one on a new session. While leader, put `fence()` in every
 * write transaction: it fails the transaction if this candidate's node is gone, so a deposed leader
 * can never write.
 */
export class LeaderElection extends EventEmitter<{ state: [ElectionState]; reset: [string] }> {
  private readonly session: ZkSession;
  private readonly dir: string;
  private readonly prefix: string;
  private readonly candidatePath: (name: string) => string;
  private readonly candidateData: Uint8Array;
  private node: string | undefined;
  private current: ElectionState = 'candidate';
  private checking: Promise<void> | undefined;
  private recheck = false;
  private readonly onSessionState = (state: string) => {
    if (state === 'expired' || state === 'closed') this.lose();
  };

  constructor(session: ZkSession, options: ElectionOptions) {
    super();
    this.session = session;
    this.dir = options.dir;
    this.prefix = options.prefix;
    this.candidatePath = options.candidatePath;
    this.candidateData = Buffer.from(options.candidateId, 'utf8');
  }

  get state(): ElectionState {
    return this.current;
  }

  /** The candidate's own znode, once started. */
  get nodePath(): string | undefined {
    return this.node;
  }

  async start(): Promise<void> {
    if (this.node) return;
    this.session.on('state', this.onSessionState);
    await this.session.mkdirp(this.dir);
    await this.join();
    await this.check();
  }

  private async join(): Promise<void> {
    this.node = await this.session.create(this.prefix, this.candidateData, 'ephemeral-sequential');
  }

  /** Resolves once leader; rejects if the election is lost first or the deadline passes. */
  waitForLeadership(timeoutMs: number): Promise<void> {
    if (this.current === 'leader') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('state', onState);
        reject(
          new ZkError(
            'TIMEOUT',
            `not elected leader within ${timeoutMs} ms: another candidate holds leadership`,
          ),
        );
      }, timeoutMs);
      const onState = (state: ElectionState) => {
        if (state === 'candidate') return;
        clearTimeout(timer);
        this.off('state', onState);
        if (state === 'leader') resolve();
        else reject(new ZkError('SESSION_EXPIRED', 'the election was lost with the ZooKeeper session'));
      };
      this.on('state', onState);
    });
  }

  /** A `check` operation that holds only while this candidate's node exists. */
  fence(): { op: 'check'; path: string; version: number } {
    if (!this.node || this.current !== 'leader')
      throw new ZkError('ZK_OTHER', 'not the leader: refusing to write');
    return { op: 'check', path: this.node, version: 0 };
  }

  /** Evaluates leadership again now, e.g. after a fenced write failed on this candidate's node. */
  async verify(): Promise<void> {
    await this.check();
  }

  /** The data of the current leader's node (its candidate id), for status displays. */
  async leaderId(): Promise<string | undefined> {
    return (await candidateIds(this.session, { dir: this.dir, candidatePath: this.candidatePath }))[0];
  }

  async close(): Promise<void> {
    const node = this.node;
    this.lose();
    if (node && this.session.state === 'connected') {
      await this.session.remove(node).catch((error: unknown) => {
        // Already gone (session ended) is the outcome we wanted.
        if (!(error instanceof ZkError && (error.code === 'NO_NODE' || error.transient))) throw error;
      });
    }
  }

  private lose(): void {
    if (this.current === 'lost') return;
    this.session.off('state', this.onSessionState);
    this.set('lost');
  }

  private set(state: ElectionState): void {
    if (this.current === state) return;
    this.current = state;
    this.emit('state', state);
  }

  /** Re-evaluates leadership; concurrent triggers collapse into one more pass. */
  private async check(): Promise<void> {
    if (this.checking) {
      this.recheck = true;
      return this.checking;
    }
    this.checking = (async () => {
      do {
        this.recheck = false;
        await this.evaluate();
      } while (this.recheck && this.current !== 'lost');
    })().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async evaluate(): Promise<void> {
    if (this.current === 'lost' || !this.node) return;
    const mine = this.node.slice(this.node.lastIndexOf('/') + 1);
    const { children } = await this.session.children(this.dir);
    const ordered = sortCandidates(children);
    const index = ordered.indexOf(mine);
    if (index < 0) {
      // Our node vanished while the session lives: only a manual delete does that. Stop leading at
      // once (fence() fails from now on), then join again as a new candidate.
      this.set('candidate');
      this.emit('reset', this.node);
      await this.join();
      this.recheck = true;
      return;
    }
    if (index === 0) {
      // Watch our own node while leading: if it is deleted, leadership is gone at once.
      const own = await this.session.exists(this.node, () => {
        this.check().catch((error: unknown) => this.onWatchError(error));
      });
      if (!own) {
        this.recheck = true;
        return;
      }
      this.set('leader');
      return;
    }
    const predecessor = this.candidatePath(ordered[index - 1] as string);
    const stat = await this.session.exists(predecessor, () => {
      this.check().catch((error: unknown) => this.onWatchError(error));
    });
    if (!stat) await this.evaluate();
  }

  private onWatchError(error: unknown): void {
    // A transient failure re-evaluates on the next session event; anything else ends candidacy.
    if (error instanceof ZkError && error.transient) {
      this.session.once('state', (state) => {
        if (state === 'connected') this.check().catch((e: unknown) => this.onWatchError(e));
      });
      return;
    }
    this.lose();
  }
}

/**
 * The candidate ids of an election folder in election order: the first is the leader. Candidates
 * that leave while it is read are skipped.
 */
export async function candidateIds(
  session: ZkSession,
  election: Pick<ElectionOptions, 'dir' | 'candidatePath'>,
): Promise<string[]> {
  const ordered = sortCandidates(await session.childrenIfExists(election.dir));
  const ids = await Promise.all(
    ordered.map(async (name) =>
      (await session.getIfExists(election.candidatePath(name)))?.data.toString('utf8'),
    ),
  );
  return ids.filter((id): id is string => id !== undefined);
}

/** Sequential nodes sort by their 10-digit counter, whatever their prefix. */
function sortCandidates(children: readonly string[]): string[] {
  return [...children].sort((a, b) => a.slice(-10).localeCompare(b.slice(-10)));
}
