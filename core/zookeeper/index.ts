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
export type { ZkNodeEvent, ZkNodeEventType } from './watch-registry.js';
export type { ZkAcl } from './zk-acl.js';
export { digestAclId, ZK_OPEN_ACL, ZK_PERMS } from './zk-acl.js';
export type { ZkAuth, ZkCreateMode, ZkOp } from './zk-client.js';
export { credentialsUser, digestCredentials, readCredentialsFile } from './zk-credentials.js';
export type { ZkErrorCode } from './zk-error.js';
export { ZkError } from './zk-error.js';
export type { AclOf, ZkSessionOptions, ZkSessionState, ZkWatcher, ZkWatchMode } from './zk-session.js';
export { ZK_MAX_REQUEST_BYTES, ZkSession } from './zk-session.js';
export type { ZkStat } from './zk-stat.js';
