export type { ElectionState } from './leader-election.js';
export { LeaderElection } from './leader-election.js';
export type { KeeperEvents, SessionKeeperOptions } from './session-keeper.js';
export { SessionKeeper } from './session-keeper.js';
export type { ZkErrorCode } from './zk-error.js';
export { ZkError } from './zk-error.js';
export type {
  ZkCreateMode,
  ZkOp,
  ZkSessionOptions,
  ZkSessionState,
  ZkStat,
  ZkWatcher,
} from './zk-session.js';
export { ZK_MAX_REQUEST_BYTES, ZkSession } from './zk-session.js';
