// The public surface of core/: every exported name is listed here on purpose.

export type { ConfigDiff, FileChange, ReleaseChange } from './config-diff.js';
export { diffConfigRepos } from './config-diff.js';
export type {
  ConfigRepo,
  EffectiveFile,
  Environment,
  Host,
  LoadedConfigRepo,
  ManifestChecker,
  ManifestKind,
  Release,
  RepoLimits,
  RepoModelCache,
  Service,
  ServiceEnvironment,
} from './config-repo.js';
export { createRepoModelCache, loadConfigRepo, manifestProblems } from './config-repo.js';
export { contentId } from './content-id.js';
export type { Diagnostic, Severity, SourcePosition } from './diagnostic.js';
export { compareDiagnostics, diagnostic, START_OF_FILE } from './diagnostic.js';
export type { EnvironmentSnapshot, SnapshotRead } from './environment-snapshot.js';
export { readEnvironmentSnapshot } from './environment-snapshot.js';
export { CairnError, RepoNotFoundError, UnsafePathError } from './errors.js';
export type { FileFormat } from './file-format.js';
export { formatOf } from './file-format.js';
export type { ParsedDocument, ValuePath } from './formats/index.js';
export { parseSource, serializeValue } from './formats/index.js';
export type {
  EnvironmentSettings,
  HostEntry,
  LoadBalancing,
  PolicyManifest,
  PolicyPrincipal,
  PolicyRequirement,
  PolicyRule,
  Principal,
  ReleaseManifest,
  ReleaseStrategy,
  ServiceManifest,
  SettingsManifest,
} from './manifests.js';
export { DEFAULT_HISTORY_RETENTION, DEFAULT_MAX_FILE_BYTES } from './manifests.js';
export { deepMerge, mergeOverlay } from './overlay.js';
export { unsafePathReason } from './path-safety.js';
export type { Rollout } from './release-rollout.js';
export { batchSizeOf, rolloutOf } from './release-rollout.js';
export type { RepoPath } from './repo-layout.js';
export {
  classifyPath,
  POLICY_FILE,
  SETTINGS_FILE,
  serviceManifestPath,
} from './repo-layout.js';
export type { RepoTree, SkippedEntry } from './repo-tree.js';
export { readRepoDir } from './repo-tree.js';
export { decodeText, LineIndex } from './source-text.js';
export type { TagRef } from './tracked-environments.js';
export { composeInventory, newestMatchingTag } from './tracked-environments.js';
export type { EnvironmentIndex, InventoryDiff, ZkInventory } from './zk-inventory.js';
export { diffInventories, inventoryOf, isEmptyDiff } from './zk-inventory.js';
export { ZkLayout } from './zk-layout.js';
export type {
  ElectionState,
  KeeperEvents,
  SessionKeeperOptions,
  ZkAcl,
  ZkAuth,
  ZkCreateMode,
  ZkErrorCode,
  ZkNodeEvent,
  ZkNodeEventType,
  ZkOp,
  ZkSessionOptions,
  ZkSessionState,
  ZkStat,
  ZkWatcher,
  ZkWatchMode,
} from './zookeeper/index.js';
export {
  digestAclId,
  LeaderElection,
  SessionKeeper,
  ZK_MAX_REQUEST_BYTES,
  ZK_OPEN_ACL,
  ZK_PERMS,
  ZkError,
  ZkSession,
} from './zookeeper/index.js';
