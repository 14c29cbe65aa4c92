// The public surface of syncer/: every exported name is listed here on purpose.
export { CommitRefusedError, TransactionTooLargeError } from './errors.js';
export type { EnvironmentRevision, HeadRecord } from './head-record.js';
export { decodeHeadRecord } from './head-record.js';
export type { SyncOutcome } from './mirror.js';
export { Mirror } from './mirror.js';
export { syncOnce } from './sync-once.js';
export type { RawSyncerSettings, SyncerConfig, SyncProgress } from './syncer-config.js';
export { resolveSyncerConfig, SYNCER_ENV, SyncerConfigError } from './syncer-config.js';
export type { SyncerRole, SyncerStatus } from './syncer-daemon.js';
export { SyncerDaemon } from './syncer-daemon.js';
