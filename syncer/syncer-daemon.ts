import type { Server } from 'node:http';
import type { Logger } from 'pino';
import {
  CairnError,
  CoalescingTrigger,
  type DirectoryClaim,
  errorLogFields,
  LeaderRole,
  type LeaderRoleState,
  type LeaderTerm,
  type Reconciler,
  SessionKeeper,
  ZkError,
  type ZkSessionState,
} from '../core/index.js';
import { claimCacheDir } from './cache-claim.js';
import { compactClone } from './compact-clone.js';
import { DeploymentController } from './deployments/deployment-controller.js';
import type { GitSource } from './git/index.js';
import { openGitSource } from './git/index.js';
import { type HttpExtension, sendJson, startHttpServer } from './http-server.js';
import { SyncerMetrics } from './metrics.js';
import { Mirror, type SyncOutcome } from './mirror.js';
import { checkBranch } from './preflight.js';
import type { SyncerConfig } from './syncer-config.js';
import { openValidationCache } from './validation-cache.js';
import { DeliveryLog, type PushDelivery } from './webhook.js';
import { WebhookEndpoint } from './webhook-endpoint.js';
import { ensureLayout } from './zk/bootstrap.js';
import { repairAcls } from './zk/repair-acls.js';

/** How often the leader walks the tree for ACLs changed by hand, besides at the start of each term. */
export const DEFAULT_ACL_AUDIT_INTERVAL_MS = 5 * 60_000;

export type SyncerRole = LeaderRoleState;

/**
 * After a mirrored commit, content collection waits for a pass that finds nothing new, asked for
 * this long after the last commit: commits in a row, and the readers each one wakes, never wait on
 * it (it reads every pointer and content folder). Collection only frees space.
 */
export const COLLECTION_QUIET_MS = 2_000;

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

/**
 * `cairn sync --watch`: keeps a ZooKeeper session (a new one after expiry) and a place in the
 * election of syncer replicas. The leader runs the mirror reconciler on every webhook and poll;
 * standbys follow the branch on the same triggers (fetch, read, validate; no write), so the one that
 * takes over after the leader dies has only the newest commit's work left.
 */
export class SyncerDaemon {
  private readonly config: SyncerConfig;
  private readonly logger: Logger;
  readonly metrics = new SyncerMetrics();
  private readonly deliveries = new DeliveryLog();
  private source: GitSource | undefined;
  /** The cache directory, held for this replica alone from start to close. */
  private cacheClaim: DirectoryClaim | undefined;
  private mirror: Mirror | undefined;
  private keeper: SessionKeeper | undefined;
  private role: LeaderRole | undefined;
  private deployments: DeploymentController | undefined;
  private mirrored: string | undefined;
  private branchHead: string | undefined;
  private behindSince: number | undefined;
  private lastError: SyncerStatus['lastError'];
  /** Failed sync passes in a row. */
  private syncFailures = 0;
  /** A standby's pass: follows the branch without writing, so that taking over is warm. */
  private follower: CoalescingTrigger | undefined;
  /** The standby's failed follows in a row: the first is a warning, its end an info line. */
  private followFailures = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private collectionTimer: NodeJS.Timeout | undefined;
  /** When this replica last mirrored a commit (`performance.now()`): collection waits for quiet. */
  private lastMirroredAt = Number.NEGATIVE_INFINITY;
  private http: Server | undefined;
  private webhooks: WebhookEndpoint | undefined;
  private closed = false;
  /** Whether a connection was made and then lost: what the log says once each way. */
  private connection: 'never' | 'up' | 'lost' = 'never';

  private readonly extension: HttpExtension | undefined;

  /** `extension`: pages another part serves on the syncer's address (`cairn sync` adds the dashboard). */
  constructor(config: SyncerConfig, logger: Logger, extension?: HttpExtension) {
    this.config = config;
    this.extension = extension;
    this.logger = logger.child({ replica: config.replicaId, branch: config.branch });
  }

  /**
   * Checks the repository and branch (a definite mistake — no such repository or branch, a branch no
   * environment follows — fails here, with what to fix), then serves HTTP (if configured) and joins
   * the election; resolves once listening.
   */
  async start(): Promise<{ port?: number }> {
    this.cacheClaim = await claimCacheDir(this.config, this.logger);
    try {
      return await this.#start(this.cacheClaim.dir);
    } catch (error) {
      // Not started: the cache directory is free for the next attempt, in this process or another.
      await this.cacheClaim.release();
      this.cacheClaim = undefined;
      throw error;
    }
  }

  /** Starts the replica, its clone and validation cache in `cacheDir` (the folder it claimed). */
  async #start(cacheDir: string): Promise<{ port?: number }> {
    const { config } = this;
    const layout = config.endpoint.layout;
    const { onProgress } = config;
    this.source = openGitSource({
      url: config.repo,
      branch: config.branch,
      cacheDir,
      timeoutMs: config.gitTimeoutMs,
      ...(config.gitCredentials ? { credentials: config.gitCredentials } : {}),
      ...(config.treeLimits ? { limits: config.treeLimits } : {}),
      ...(config.packLimit !== undefined ? { packLimit: config.packLimit } : {}),
      ...(onProgress
        ? { onReadProgress: (done, total) => onProgress({ phase: 'reading', done, total }) }
        : {}),
    });
    this.mirror = new Mirror({
      layout,
      source: this.source,
      branch: config.branch,
      logger: this.logger,
      notesRef: config.notesRef,
      validationCache: openValidationCache(cacheDir, this.logger),
    });
    await checkBranch(this.mirror, this.source, this.logger);
    let port: number | undefined;
    if (config.listen) {
      const started = await startHttpServer(config.listen.host, config.listen.port, {
        webhook: (request, response) => this.webhookEndpoint().handle(request, response),
        ...(this.extension ? { extension: this.extension } : {}),
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

    const keeper = new SessionKeeper({
      endpoint: config.endpoint,
      onAttemptFailed: (error, failures) => {
        this.recordError(error);
        // Once per outage, not once per attempt: /healthz and the metrics say it is still going on.
        this.logger[failures === 1 ? 'warn' : 'debug'](
          { ...errorLogFields(error), failures },
          `cannot connect to ZooKeeper: ${(error as Error).message}; retrying`,
        );
      },
    });
    this.keeper = keeper;
    keeper.on('state', (state) => {
      this.metrics.connected.set(state === 'connected' ? 1 : 0);
      this.onConnectionState(state);
      if (state === 'connected') this.role?.request();
    });
    keeper.on('session', () => {
      this.metrics.connected.set(1);
      this.onConnectionState('connected');
    });

    const mirrorReconciler: Reconciler = { name: 'mirror', reconcile: (term) => this.reconcile(term) };
    const aclReconciler = this.aclReconciler(config.aclAuditIntervalMs ?? DEFAULT_ACL_AUDIT_INTERVAL_MS);
    this.deployments = new DeploymentController({
      layout,
      logger: this.logger,
      request: () => this.role?.request('deployments'),
      drains: this.mirror,
    });
    const role = new LeaderRole({
      keeper,
      election: {
        dir: layout.syncersDir(),
        prefix: layout.syncerCandidatePrefix(),
        candidatePath: (name) => layout.syncerCandidate(name),
        candidateId: config.replicaId,
      },
      reconcilers: [mirrorReconciler, this.deployments, aclReconciler],
      prepare: (session) => ensureLayout(session, layout),
    });
    this.role = role;
    role.on('state', (state) => this.onRoleState(state));
    role.on('error', (name, error, failures, retryInMs) => {
      this.recordError(error);
      // A pass that failed because the connection is gone says nothing the "lost the connection"
      // warning did not: it goes to debug, and the connection's return is logged once.
      const level =
        (failures === 1 || failures % 10 === 0) && !this.isConnectionLoss(error) ? 'warn' : 'debug';
      if (name !== 'mirror') {
        this.logger[level](
          { reconciler: name, ...errorLogFields(error), failures, retryInMs },
          `the ${name} pass failed: ${(error as Error)?.message}; retrying`,
        );
        return;
      }
      this.syncFailures = failures;
      // The branch may have moved: count the lag from the first failed attempt until a sync succeeds.
      this.behindSince ??= Date.now();
      this.logger[level](
        { ...errorLogFields(error), failures, retryInMs },
        `sync failed: ${(error as Error)?.message}; retrying`,
      );
    });
    role.on('reset', (node) =>
      this.logger.warn(
        { node },
        'this replica’s election node vanished while its session lived: joining again',
      ),
    );
    role.on('joinFailed', (error) => {
      this.recordError(error);
      this.logger.warn(errorLogFields(error), 'could not join the election; starting a new session');
    });
    this.follower = new CoalescingTrigger(() => this.follow(), {
      retry: false,
      onError: (error) => {
        // The next poll or webhook follows again. A standby that cannot follow would take over cold
        // (a full read and validation), so its first failure in a row is a warning; the rest repeat
        // it at debug level, as a git server down for an hour must not write a line per poll.
        const message = `a standby could not follow the branch: ${(error as Error)?.message}`;
        if (this.followFailures++ === 0)
          this.logger.warn(errorLogFields(error), `${message} (it would take over cold until it can)`);
        else this.logger.debug(errorLogFields(error), message);
      },
    });
    role.start();
    keeper.start();
    this.pollTimer = setInterval(() => this.requestPass(), config.pollIntervalMs);
    return port === undefined ? {} : { port };
  }

  status(): SyncerStatus {
    const connected = this.keeper?.connected ?? false;
    const role = this.closed ? 'stopped' : (this.role?.state ?? 'connecting');
    const refused = this.mirror?.refusedCommit;
    const caughtUp =
      this.branchHead !== undefined &&
      (this.branchHead === this.mirrored || this.branchHead === refused?.commit);
    return {
      ready: connected && (role === 'standby' || (role === 'leader' && caughtUp && this.syncFailures === 0)),
      role,
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
    await this.role?.whenIdle();
  }

  /** Resolves after the next sync attempt that starts after this call has finished. */
  async syncNow(): Promise<void> {
    this.role?.request();
    await this.role?.whenIdle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.collectionTimer);
    await this.follower?.close();
    // Stepping down explicitly lets a standby take over now rather than after the session timeout.
    await this.role?.close();
    this.deployments?.close();
    await this.keeper?.close();
    this.source?.close();
    await this.cacheClaim?.release();
    // Open event streams would keep the server from closing.
    await this.extension?.close();
    await new Promise<void>((resolve) => (this.http ? this.http.close(() => resolve()) : resolve()));
    this.logger.info('syncer stopped');
  }

  /**
   * Repairs ACLs at the start of each term, then on the first request after each interval: a walk
   * reads every node's ACL, too much for every poll.
   */
  private aclReconciler(intervalMs: number): Reconciler {
    let walked: { term: number; at: number } | undefined;
    return {
      name: 'acl',
      reconcile: async (term) => {
        if (walked?.term === term.number && Date.now() - walked.at < intervalMs) return;
        await repairAcls(term.session, this.config.endpoint.layout, this.logger);
        walked = { term: term.number, at: Date.now() };
      },
    };
  }

  /** A poll or a push: the leader mirrors, a standby follows. */
  private requestPass(name?: string): void {
    if (this.role?.state === 'leader') this.role.request(name);
    else if (this.role?.state === 'standby') this.follower?.request();
  }

  /**
   * Fetches, reads and validates the branch head as the leader will mirror it, writing nothing: the
   * pass that takes over after the leader dies then does only the work of commits newer than this.
   */
  private async follow(): Promise<void> {
    if (this.role?.state !== 'standby') return;
    const started = performance.now();
    const { commit, filesParsed } = await (this.mirror as Mirror).follow();
    if (this.followFailures > 0) {
      this.logger.info(
        { commit, failures: this.followFailures },
        'the standby follows the branch again: it takes over warm',
      );
      this.followFailures = 0;
    }
    this.metrics.filesParsed.inc({ role: 'standby' }, filesParsed);
    if (commit !== this.branchHead)
      this.logger.debug(
        { commit, filesParsed, ms: Math.round(performance.now() - started) },
        'followed the branch as a standby',
      );
    this.branchHead = commit;
    if (this.source) await compactClone(this.source, this.logger);
  }

  private async reconcile(term: LeaderTerm): Promise<void> {
    const mirror = this.mirror as Mirror;
    const target = { session: term.session, writer: term.writer, term: term.number };
    const started = performance.now();
    const outcome = await mirror.sync(target);
    this.onOutcome(outcome, (performance.now() - started) / 1000);
    if (outcome.kind !== 'refused') this.metrics.filesParsed.inc({ role: 'leader' }, outcome.filesParsed);
    this.lastError = undefined;
    this.syncFailures = 0;
    if (outcome.kind === 'mirrored') {
      // A new commit may change a release: the controller looks at once rather than on its watch.
      this.role?.request('deployments');
      this.lastMirroredAt = performance.now();
      this.requestQuietPass();
      if (!mirror.collectionOverdue) return;
    } else if (
      // A pass that found nothing new soon after a commit (its webhook came after a poll's pass
      // mirrored it) leaves collection to the quiet pass: more commits may be on their way.
      performance.now() - this.lastMirroredAt < COLLECTION_QUIET_MS &&
      !mirror.collectionOverdue
    )
      return;
    try {
      await mirror.collect(target);
    } catch (error) {
      // Collection only frees space; it runs again with the next pass.
      this.logger[this.isConnectionLoss(error) ? 'debug' : 'warn'](
        errorLogFields(error),
        'could not collect unreferenced content',
      );
    }
    // Once commits stop, as collection: a commit that comes meanwhile waits for git's repack.
    if (this.source) await compactClone(this.source, this.logger);
  }

  /** A mirror pass once commits have stopped for COLLECTION_QUIET_MS: it finds nothing new, and collects. */
  private requestQuietPass(): void {
    clearTimeout(this.collectionTimer);
    this.collectionTimer = setTimeout(() => this.role?.request('mirror'), COLLECTION_QUIET_MS);
    this.collectionTimer.unref();
  }

  /**
   * A failure of ZooKeeper's connection rather than of the request: a dropped connection or an
   * expired session always comes with the state change the log reports once; a request that timed
   * out, only while the connection is known lost.
   */
  private isConnectionLoss(error: unknown): boolean {
    if (!(error instanceof ZkError)) return false;
    if (error.code === 'CONNECTION_LOSS' || error.code === 'SESSION_EXPIRED') return true;
    return error.code === 'TIMEOUT' && this.connection === 'lost';
  }

  /** A lost connection is logged once when lost and once when back, however many attempts between. */
  private onConnectionState(state: ZkSessionState): void {
    if (state === 'disconnected' && this.connection === 'up') {
      this.connection = 'lost';
      this.logger.warn(
        { code: 'CONNECTION_LOSS' },
        'lost the connection to ZooKeeper: reconnecting; what it serves stays live',
      );
    } else if (state === 'expired') {
      this.connection = 'lost';
      this.logger.warn({ code: 'SESSION_EXPIRED' }, 'ZooKeeper session expired: starting a new one');
    } else if (state === 'connected') {
      if (this.connection === 'lost') this.logger.info('connected to ZooKeeper again');
      this.connection = 'up';
    }
  }

  private onRoleState(state: LeaderRoleState): void {
    this.metrics.leader.set(state === 'leader' ? 1 : 0);
    if (state === 'leader') this.logger.info('elected leader: mirroring the branch');
    else if (state === 'standby') {
      this.logger.info('standing by: another replica leads; following the branch');
      this.follower?.request();
    }
  }

  private onOutcome(outcome: SyncOutcome, seconds: number): void {
    if (outcome.kind === 'refused') {
      this.branchHead = outcome.error.commit;
      this.behindSince ??= Date.now();
      this.metrics.refused(outcome.error);
      return;
    }
    this.branchHead = outcome.commit;
    this.mirrored = outcome.commit;
    this.behindSince = undefined;
    if (outcome.kind === 'mirrored') this.metrics.mirrored(outcome.seq, outcome.serving, seconds, new Date());
    else this.metrics.upToDate(outcome.seq, outcome.serving);
  }

  /** `POST /webhook`, or 404 when no secret is configured (`cairn sync` refuses --listen without one). */
  private webhookEndpoint(): Pick<WebhookEndpoint, 'handle'> {
    const secret = this.config.webhookSecret;
    if (!secret)
      return {
        handle: async (_request, response) =>
          sendJson(response, 404, { error: 'webhooks are not enabled: start with --webhook-secret-file' }),
      };
    this.webhooks ??= new WebhookEndpoint({
      secret,
      logger: this.logger,
      onRefused: (reason) => this.metrics.webhookRefused.inc({ reason }),
      onDelivery: (push) => this.onPush(push),
    });
    return this.webhooks;
  }

  private onPush(push: PushDelivery | undefined): { status: number; body: unknown } {
    // The branch, and tags: environments may follow release tags.
    const relevant =
      push && (push.ref === `refs/heads/${this.config.branch}` || push.ref.startsWith('refs/tags/'));
    if (!push || !relevant) return { status: 202, body: { ignored: true } };
    if (!this.deliveries.firstTime(push.id)) return { status: 202, body: { duplicate: true } };
    this.logger.info({ delivery: push.id, after: push.after }, 'push webhook received');
    // The next fetch asks for the pushed commit while it lists the refs; the listing decides.
    if (push.ref === `refs/heads/${this.config.branch}`) this.source?.announceHead(push.after);
    // The mirror alone: it asks the deployment controller for a pass once a commit is mirrored.
    this.requestPass('mirror');
    return { status: 202, body: { queued: true, leader: this.role?.state === 'leader' } };
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
