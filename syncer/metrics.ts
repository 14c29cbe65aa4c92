import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The syncer's Prometheus metrics, on a registry of its own so several syncers can share a process. */
export class SyncerMetrics {
  readonly registry = new Registry();
  readonly headInfo = new Gauge({
    name: 'cairn_syncer_head_info',
    help: 'The commit mirrored in ZooKeeper (value 1, commit as label)',
    labelNames: ['commit'],
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
    help: 'Time to mirror one commit, fetch included',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'cairn_syncer_errors_total',
    help: 'Failed sync attempts by error code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly refused = new Gauge({
    name: 'cairn_syncer_refused_commit_info',
    help: 'A branch commit refused by validation (value 1, commit as label) until a later commit mirrors',
    labelNames: ['commit'],
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

  mirrored(commit: string, now: Date): void {
    this.upToDate(commit);
    this.lastSyncTime.set(now.getTime() / 1000);
  }

  upToDate(commit: string): void {
    this.headInfo.reset();
    this.headInfo.set({ commit }, 1);
    this.refused.reset();
  }
}
