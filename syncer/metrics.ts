import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What one environment serves: the commit, and the release tag for one that follows tags. */
export interface ServedRevision {
  readonly commit: string;
  readonly tag?: string;
}

/**
 * The syncer's Prometheus metrics, on a registry of its own so several syncers can share a process.
 * No counter, gauge or histogram has a commit as a label: a commit is only named by the info metric
 * of each environment, whose one series per environment is replaced when the environment moves.
 */
export class SyncerMetrics {
  readonly registry = new Registry();
  readonly serving = new Gauge({
    name: 'cairn_syncer_environment_info',
    help: 'What each environment serves (value 1): one series per environment, replaced when it moves',
    labelNames: ['env', 'commit', 'tag'],
    registers: [this.registry],
  });
  readonly headSeq = new Gauge({
    name: 'cairn_syncer_head_seq',
    help: 'The sequence number of the mirrored commit (its /history record); rises by one per mirrored commit',
    registers: [this.registry],
  });
  readonly lastSyncTime = new Gauge({
    name: 'cairn_syncer_last_sync_timestamp_seconds',
    help: 'When a commit was last mirrored',
    registers: [this.registry],
  });
  readonly lag = new Gauge({
    name: 'cairn_syncer_lag_seconds',
    help: 'Seconds since the syncer first saw a branch head that ZooKeeper does not mirror yet; 0 when caught up',
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'cairn_syncer_sync_duration_seconds',
    help: 'Time to mirror one commit, fetch included; one observation per mirrored commit (polls that find nothing new are not counted)',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly mirroredCommits = new Counter({
    name: 'cairn_syncer_commits_mirrored_total',
    help: 'Commits mirrored into ZooKeeper by this replica',
    registers: [this.registry],
  });
  readonly refusedCommits = new Counter({
    name: 'cairn_syncer_commits_refused_total',
    help: 'Commits refused by validation (each counted once, however often it is polled)',
    registers: [this.registry],
  });
  readonly refusing = new Gauge({
    name: 'cairn_syncer_refusing',
    help: '1 while the branch head (or a release tag) is a refused commit, until a later commit mirrors; cairn status names it',
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'cairn_syncer_errors_total',
    help: 'Failed sync attempts by error code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly webhookRefused = new Counter({
    name: 'cairn_syncer_webhook_refused_total',
    help: 'Webhook deliveries refused, by reason: unsigned, no_event, too_large, busy, slow, bad_signature, bad_payload',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'cairn_syncer_leader',
    help: '1 while this replica is the leader',
    registers: [this.registry],
  });
  readonly connected = new Gauge({
    name: 'cairn_syncer_zookeeper_connected',
    help: '1 while connected to ZooKeeper',
    registers: [this.registry],
  });
  readonly filesParsed = new Counter({
    name: 'cairn_syncer_files_parsed_total',
    help: 'Files parsed (those neither the models in memory nor the validation cache knew), by the role that parsed them: leader (mirroring) or standby (following the branch)',
    labelNames: ['role'],
    registers: [this.registry],
  });
  private lastRefusal: unknown;

  /** Process metrics (CPU, memory, event loop lag, GC, handles) come with Prometheus's usual names. */
  constructor(options: { readonly processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  mirrored(seq: number, serving: Readonly<Record<string, ServedRevision>>, seconds: number, now: Date): void {
    this.mirroredCommits.inc();
    this.duration.observe(seconds);
    this.lastSyncTime.set(now.getTime() / 1000);
    this.upToDate(seq, serving);
  }

  upToDate(seq: number, serving: Readonly<Record<string, ServedRevision>>): void {
    this.headSeq.set(seq);
    this.serving.reset();
    for (const [env, { commit, tag }] of Object.entries(serving))
      this.serving.set({ env, commit, tag: tag ?? '' }, 1);
    this.refusing.set(0);
  }

  /** `refusal` identifies one refusal: a refusal reported again on the next poll is not counted again. */
  refused(refusal: unknown): void {
    if (refusal !== this.lastRefusal) this.refusedCommits.inc();
    this.lastRefusal = refusal;
    this.refusing.set(1);
  }
}
