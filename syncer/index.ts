// The public surface of syncer/: every exported name is listed here on purpose.
export { CommitRefusedError, TransactionTooLargeError } from './errors.js';
export { DEFAULT_GIT_TIMEOUT_MS, DEFAULT_TREE_LIMITS, withoutCredentials } from './git/index.js';
export type { HttpExtension } from './http-server.js';
export { probeListen } from './http-server.js';
export type { SyncOutcome, SyncTarget, SyncTimings } from './mirror.js';
export { Mirror } from './mirror.js';
export { BranchNotTrackedError } from './preflight.js';
export { syncOnce } from './sync-once.js';
export type { RawSyncerSettings, SyncerConfig, SyncProgress } from './syncer-config.js';
export { parseListen, resolveSyncerConfig, SYNCER_ENV } from './syncer-config.js';
export type { SyncerRole, SyncerStatus } from './syncer-daemon.js';
export { SyncerDaemon } from './syncer-daemon.js';
