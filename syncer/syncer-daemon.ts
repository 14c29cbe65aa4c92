import type { Server } from 'node:http';
import type { Logger } from 'pino';
import {
  CairnError,
  LeaderElection,
  SessionKeeper,
  ZkError,
  ZkLayout,
  type ZkSession,
} from '../core/index.js';
import { CoalescingTrigger } from './coalescing-trigger.js';
import type { GitSource } from './git/index.js';
import { openGitSource } from './git/index.js';
import { startHttpServer } from './http-server.js';
import { SyncerMetrics } from './metrics.js';
import { Mirror, type SyncOutcome } from './mirror.js';
import type { SyncerConfig } from './syncer-config.js';
import { DeliveryLog, verifyWebhook } from './webhook.js';
import { ensureLayout } from './zk/bootstrap.js';

export type SyncerRole = 'connecting' | 'standby' | 'leader' | 'stopped';

/** What /healthz reports; `ready` only when connected and (as leader) caught up with the branch. */
export interface SyncerStatus {
  readonly ready: boolean;
  readonly role: SyncerRole;
  readonly replica: string;
  readonly connected: boolean;
  readonly mirrored?: string;
  readonly branchHead?: string;
  readonly refused?: { readonly commit: string; readonly reason: string };
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: string };
}

const MAX_BACKOFF_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * `cairn sync --watch`: keeps a ZooKeeper session (a new one after expiry), runs for leadership, and
 * while leader mirrors the branch on every webhook and poll. Standbys wait; when the leader dies its
 * election node vanishes with its session and the next replica takes over.
 */
export class SyncerDaemon {
  private readonly config: SyncerConfig;
  private readonly logger: Logger;
  private readonly layout: ZkLayout;
  readonly metrics = new SyncerMetrics();
  private readonly deliveries = new DeliveryLog();
  private readonly trigger = new CoalescingTrigger(() => this.syncJob());
  private source: GitSource | undefined;
  private keeper: SessionKeeper | undefined;
  private election: LeaderElection | undefined;
  private mirror: Mirror | undefined;
  private role: SyncerRole = 'connecting';
  private mirrored: string | undefined;
  private branchHead: string | undefined;
  private behindSince: number | undefined;
  private lastError: SyncerStatus['lastError'];
  private failures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private http: Server | undefined;
  private closed = false;

  constructor(config: SyncerConfig, logger: Logger) {
    this.config = config;
    this.logger = logger.child({ replica: config.replicaId, branch: config.branch });
    this.layout = new ZkLayout(config.root);
  }

  /** Starts serving HTTP (if configured) and the session/election loop; resolves once listening. */
  async start(): Promise<{ port?: number }> {
    const { onProgress } = this.config;
    this.source = openGitSource({
      url: this.config.repo,
      branch: this.config.branch,
      cacheDir: this.config.cacheDir,
      ...(onProgress
        ? { onReadProgress: (done, total) => onProgress({ phase: 'reading', done, total }) }
        : {}),
    });
    let port: number | undefined;
    if (this.config.listen) {
      const started = await startHttpServer(this.config.listen.host, this.config.listen.port, {
        webhook: (headers, body) => this.onWebhook(headers, body),
        health: () => {
          const status = this.status();
          return { status: status.ready ? 200 : 503, body: status };
        },
        metrics: async () => {
          this.metrics.lag.set(this.behindSince === undefined ? 0 : (Date.now() - this.behindSince) / 1000);
          return {
            contentType: this.metrics.registry.contentType,
            body: await this.metrics.registry.metrics(),
          };
        },
      });
      this.http = started.server;
      port = started.address.port;
      this.logger.info({ address: started.address }, 'listening for webhooks, health and metrics');
    }
    this.pollTimer = setInterval(() => this.trigger.request(), this.config.pollIntervalMs);
    const keeper = new SessionKeeper({
      connectString: this.config.zk,
      sessionTimeoutMs: this.config.sessionTimeoutMs,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      // Waiting longer to connect than a session lasts buys nothing.
      connectAttemptMs: this.config.sessionTimeoutMs,
      onAttemptFailed: (error) => {
        this.recordError(error);
        this.logger.warn({ err: error }, 'cannot connect to ZooKeeper; retrying');
      },
    });
    this.keeper = keeper;
    keeper.on('session', (session) => {
      this.metrics.connected.set(1);
      this.joinElection(session).catch((error: unknown) => {
        // Without a place in the election this session is of no use: end it, the keeper opens another.
        this.recordError(error);
        this.logger.warn({ err: error }, 'could not join the election; starting a new session');
        void session.close();
      });
    });
    keeper.on('state', (state) => {
      this.metrics.connected.set(state === 'connected' ? 1 : 0);
      if (state === 'expired' || state === 'closed') this.stepDown();
      if (state === 'expired') this.logger.warn('ZooKeeper session expired: starting a new one');
      if (state === 'connected' && this.role === 'leader') this.trigger.request();
    });
    keeper.start();
    return port === undefined ? {} : { port };
  }

  status(): SyncerStatus {
    const connected = this.keeper?.connected ?? false;
    const caughtUp =
      this.branchHead !== undefined &&
      (this.branchHead === this.mirrored || this.branchHead === this.mirror?.refusedCommit?.commit);
    const refused = this.mirror?.refusedCommit;
    return {
      ready:
        connected && (this.role === 'standby' || (this.role === 'leader' && caughtUp && this.failures === 0)),
      role: this.role,
      replica: this.config.replicaId,
      connected,
      ...(this.mirrored ? { mirrored: this.mirrored } : {}),
      ...(this.branchHead ? { branchHead: this.branchHead } : {}),
      ...(refused ? { refused: { commit: refused.commit, reason: refused.message } } : {}),
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Resolves when no sync is running or pending. */
  async whenIdle(): Promise<void> {
    await this.trigger.idle();
  }

  /** Resolves after the next sync attempt that starts after this call has finished. */
  async syncNow(): Promise<void> {
    this.trigger.request();
    await this.trigger.idle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.role = 'stopped';
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    await this.trigger.close();
    // Stepping down explicitly lets a standby take over now rather than after the session timeout.
    await this.election
      ?.close()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'could not leave the election cleanly'));
    await this.keeper?.close();
    this.source?.close();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.logger.info('syncer stopped');
  }

  /** On each new session: the fixed folders, then a place in the election. */
  private async joinElection(session: ZkSession): Promise<void> {
    this.role = 'standby';
    await ensureLayout(session, this.layout);
    const election = new LeaderElection(session, {
      dir: this.layout.syncersDir(),
      prefix: this.layout.syncerCandidatePrefix(),
      candidateId: this.config.replicaId,
    });
    this.election = election;
    election.on('state', (state) => {
      if (state === 'leader') this.becomeLeader(session, election);
      else if (state === 'lost') this.stepDown();
    });
    await election.start();
    if (election.state !== 'leader') this.logger.info({ leader: await election.leaderId() }, 'standing by');
  }

  private becomeLeader(session: ZkSession, election: LeaderElection): void {
    if (this.closed || !this.source) return;
    this.role = 'leader';
    this.metrics.leader.set(1);
    this.logger.info('elected leader: mirroring the branch');
    // A fresh Mirror trusts nothing from before: it reconciles from what ZooKeeper holds.
    this.mirror = new Mirror({
      session,
      layout: this.layout,
      source: this.source,
      logger: this.logger,
      fence: () => election.fence(),
    });
    this.trigger.request();
  }

  private stepDown(): void {
    if (this.role === 'leader') this.logger.warn('no longer leader: stopped writing');
    this.mirror = undefined;
    this.metrics.leader.set(0);
    if (this.role !== 'stopped') this.role = 'connecting';
  }

  private async syncJob(): Promise<void> {
    const mirror = this.mirror;
    if (!mirror || this.role !== 'leader') return;
    const stop = this.metrics.duration.startTimer();
    try {
      const outcome = await mirror.sync();
      stop();
      this.onOutcome(outcome);
      this.failures = 0;
      this.lastError = undefined;
    } catch (error) {
      this.recordError(error);
      this.failures++;
      // The branch may have moved: count the lag from the first failed attempt until a sync succeeds.
      this.behindSince ??= Date.now();
      const delay = backoff(this.failures - 1);
      this.logger.warn({ err: error, retryInMs: delay }, 'sync failed; retrying');
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.trigger.request(), delay);
    }
  }

  private onOutcome(outcome: SyncOutcome): void {
    const now = new Date();
    if (outcome.kind === 'refused') {
      this.branchHead = outcome.error.commit;
      this.behindSince ??= Date.now();
      this.metrics.refused.reset();
      this.metrics.refused.set({ commit: outcome.error.commit }, 1);
      return;
    }
    this.branchHead = outcome.commit;
    this.mirrored = outcome.commit;
    this.behindSince = undefined;
    if (outcome.kind === 'mirrored') this.metrics.mirrored(outcome.commit, now);
    else this.metrics.upToDate(outcome.commit);
  }

  private onWebhook(
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
  ): { status: number; body: unknown } {
    if (!this.config.webhookSecret) return { status: 404, body: { error: 'webhooks are not enabled' } };
    const verdict = verifyWebhook(this.config.webhookSecret, headers, body);
    if (!verdict.accepted) {
      this.logger.warn({ reason: verdict.reason }, 'webhook refused');
      return { status: verdict.status, body: { error: verdict.reason } };
    }
    const push = verdict.push;
    // The branch, and tags: environments may follow release tags.
    const relevant =
      push && (push.ref === `refs/heads/${this.config.branch}` || push.ref.startsWith('refs/tags/'));
    if (!push || !relevant) return { status: 202, body: { ignored: true } };
    if (!this.deliveries.firstTime(push.id)) return { status: 202, body: { duplicate: true } };
    this.logger.info({ delivery: push.id, after: push.after }, 'push webhook received');
    this.trigger.request();
    return { status: 202, body: { queued: true, leader: this.role === 'leader' } };
  }

  private recordError(error: unknown): void {
    const code = error instanceof CairnError ? error.code : 'UNEXPECTED';
    this.metrics.errors.inc({ code });
    this.lastError = {
      code,
      message: (error as Error)?.message ?? String(error),
      at: new Date().toISOString(),
    };
    if (error instanceof ZkError && error.code === 'BAD_VERSION') {
      this.logger.error({ err: error }, '/head changed under this syncer: another writer is active');
    }
  }
}

function backoff(attempt: number): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
}
