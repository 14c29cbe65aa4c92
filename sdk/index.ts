// The public surface of the SDK (`@cairn-config/sdk`, and `.` and `./sdk` of the whole package): every exported name is listed here on purpose.

export type { InstanceRecord } from '../core/index.js';
export { decodeInstanceRecord } from '../core/index.js';
export type { ActiveStandbyState, ElectHandlers, Lease } from './active-standby.js';
export { ActiveStandby } from './active-standby.js';
export type { CairnClientOptions, ConfigOptions } from './cairn-client.js';
export { CairnClient } from './cairn-client.js';
export type { ChangeInfo } from './change-info.js';
export type { ConfigChange } from './change-stream.js';
export type { ValueOptions } from './config-value.js';
export { connect } from './connect.js';
export type {
  ConnectOptions,
  EnvironmentVariables,
  InstanceOptions,
  ServiceSelector,
  SessionOptions,
  ZooKeeperOptions,
} from './connect-options.js';
export { SDK_ENV } from './connect-options.js';
export type { ConsistentHashRingOptions } from './consistent-hash-ring.js';
export { ConsistentHashRing } from './consistent-hash-ring.js';
export { discover } from './discover.js';
export type { SdkWarningCode, ValidationFailure } from './errors.js';
export {
  ClientStateError,
  ConfigFileNotFoundError,
  ConfigRejectedError,
  EnvironmentNotFoundError,
  InvalidOptionsError,
  SdkWarning,
  ValueInvalidError,
  ValueNotFoundError,
  ZooKeeperUnreachableError,
} from './errors.js';
export type { FileChange, FileChangeKind } from './file-delta.js';
export type { FileValidation, FileValidator, JsonSchema } from './file-validators.js';
export { KeyPathError } from './key-path.js';
export { ConfigRepoInvalidError } from './repo-directory-watch.js';
export type { SdkLogger } from './sdk-logger.js';
export type {
  ConfigSource,
  ConnectionState,
  FileListener,
  RejectedChange,
  ServiceConfigEvents,
  ValueListener,
} from './service-config.js';
export { ServiceConfig } from './service-config.js';
export type { DiscoverOptions, InstancePicker, ServiceInstance } from './service-discovery.js';
export { DEFAULT_WEIGHT, ServiceDiscovery } from './service-discovery.js';
export { SmoothWeightedRoundRobin } from './smooth-weighted-round-robin.js';
export type { StandardSchemaOutput, StandardSchemaResult, StandardSchemaV1 } from './standard-schema.js';
export type { WeightedItem } from './weighted-item.js';
