export type { RawEndpointSettings, ZooKeeperEndpoint } from './endpoint.js';
export {
  DEFAULT_ENDPOINT_TIMEOUTS,
  resolveZooKeeperEndpoint,
  ZOOKEEPER_ENV,
  zooKeeperEndpoint,
} from './endpoint.js';
export type { ElectionOptions, ElectionState } from './leader-election.js';
export { candidateIds, LeaderElection } from './leader-election.js';
export type { KeeperEvents, SessionKeeperOptions } from './session-keeper.js';
export { connectSession, SessionKeeper } from './session-keeper.js';
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
