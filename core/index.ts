// The public surface of core/: every exported name is listed here on purpose.

export type { HostApply, HostApplyState } from './applied-state.js';
export { describeCommandRun, hostApplyState, instanceServes } from './applied-state.js';
export type { ConfigDiff, FileChange, ReleaseChange } from './config-diff.js';
export { diffConfigRepos } from './config-diff.js';
export type {
  ConfigRepo,
  EffectiveFile,
  Environment,
  Host,
  LoadedConfigRepo,
  LoadOptions,
  ManifestChecker,
  ManifestKind,
  Release,
  RepoGuard,
  RepoLimits,
  RepoModelCache,
  Service,
  ServiceEnvironment,
} from './config-repo.js';
export {
  createRepoModelCache,
  loadConfigRepo,
  loadConfigRepoInSlices,
  manifestProblems,
  parseConfigFilesAhead,
} from './config-repo.js';
export { contentId, rememberContentId } from './content-id.js';
export type {
  Advance,
  ConsumerHost,
  DeploymentView,
  DrainAssignmentInput,
  NewDeployment,
  NumberedControl,
  SteeringGrant,
  SteeringGrants,
  SteeringRefusal,
  TaskWrite,
} from './deployments/index.js';
export {
  advanceDeployment,
  CONTROLLER_ACTOR,
  configChanged,
  configToRollOut,
  consumerHostDrained,
  controlRefusal,
  drainAssignmentsOf,
  drainingHostsOf,
  dueStepHosts,
  hostAssignmentsOf,
  newDeployment,
  pinnedSnapshotsOf,
  steeringGrantsOf,
  steeringRefusal,
  supersedeDeployment,
} from './deployments/index.js';
export type {
  DesiredEnvironment,
  DesiredRelease,
  DesiredState,
  DesiredStateInput,
  EnvironmentSnapshotContent,
  RevisionedRepo,
  UnservedEnvironment,
} from './desired-state.js';
export {
  desiredStateOf,
  environmentKey,
  environmentSnapshotOf,
  prepareDesiredState,
} from './desired-state.js';
export type { MirroredEnvironment } from './destructive-guard.js';
export { destructiveChangeDiagnostics } from './destructive-guard.js';
export type { Diagnostic, Severity, SourcePosition } from './diagnostic.js';
export { compareDiagnostics, diagnostic, START_OF_FILE } from './diagnostic.js';
export type { DirectoryHolder } from './directory-claim.js';
export { claimDirectory, DirectoryClaim, DirectoryInUseError, OWNER_FILE } from './directory-claim.js';
export { discardRequestBody } from './discard-request-body.js';
export type { DrainedSnapshots, DrainedSnapshotsInput } from './drained-snapshots.js';
export { drainedSnapshotsOf } from './drained-snapshots.js';
export { parseDuration, SettingError } from './duration.js';
export type {
  EnvironmentRead,
  EnvironmentSnapshot,
  HeldSnapshot,
  ReadEnvironmentOptions,
} from './environment-reader.js';
export { ContentMissingError, readEnvironment } from './environment-reader.js';
export { CairnError, errorLogFields, RepoNotFoundError, UnsafePathError } from './errors.js';
export type { SliceOptions } from './event-loop-slices.js';
export { DEFAULT_SLICE_MS, forEachInSlices, sliceYielder, yieldToEventLoop } from './event-loop-slices.js';
export type { FileFormat } from './file-format.js';
export { formatOf } from './file-format.js';
export { FolderTree } from './folder-tree.js';
export type { ParsedDocument, ValuePath } from './formats/index.js';
export { parseSource, serializeValue } from './formats/index.js';
export { LogThrottle } from './log-throttle.js';
export type {
  ConfigRollout,
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
  SteeringAction,
  SteeringPrincipal,
  SteeringRule,
} from './manifests.js';
export {
  DEFAULT_FILE_MODE,
  DEFAULT_GUARD_ALLOW_EMPTY,
  DEFAULT_GUARD_MAX_REMOVED_SHARE,
  DEFAULT_HISTORY_RETENTION,
  DEFAULT_HOST_WEIGHT,
  DEFAULT_LOAD_BALANCING,
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_PROGRESS_DEADLINE_SECONDS,
  DEFAULT_SNAPSHOT_RETENTION,
} from './manifests.js';
export { mapWithConcurrency } from './map-with-concurrency.js';
export { deepMerge, mergeOverlay } from './overlay.js';
export type { ParseVerdict, ParseVerdicts } from './parse-verdicts.js';
export { PARSE_RULES_VERSION } from './parse-verdicts.js';
export { isUnsafeTreeEntryName, mayHoldUnsafeTreeEntryName, unsafePathReason } from './path-safety.js';
export type { Publication, PublishedEnvironment, PublishedState, RecordChanges } from './publication.js';
export {
  EMPTY_PUBLISHED_STATE,
  isEmptyPublication,
  planPublication,
  publicationCounts,
  publishedStateAfter,
  publishedStateOf,
} from './publication.js';
export type {
  Approvals,
  CairnStatus,
  DeploymentRef,
  DeploymentStatus,
  DrainedHosts,
  EnvironmentStatus,
  HistoryEntry,
  HostState,
  HostStatus,
  InstanceState,
  InstanceStatus,
} from './readers/index.js';
export {
  DeploymentNotFoundError,
  historyEntryOf,
  newestDeployments,
  readDeployLog,
  readDeploymentStatus,
  readHistory,
  readStatus,
  resolveDeployment,
  statusHasFindings,
} from './readers/index.js';
export type {
  BackoffOptions,
  CachedNode,
  ChildrenCacheOptions,
  CoalescingTriggerOptions,
  EnvironmentWatchEvents,
  EnvironmentWatchOptions,
  EphemeralNodeOptions,
  LeaderRoleEvents,
  LeaderRoleOptions,
  LeaderRoleState,
  LeaderTerm,
  NodeCacheOptions,
  Reconciler,
  WatchedChildrenOptions,
  WatchedReadOptions,
} from './recipes/index.js';
export {
  Backoff,
  ChildrenCache,
  CoalescingTrigger,
  EnvironmentWatch,
  EphemeralNode,
  EphemeralNodeConflictError,
  FencedWriter,
  LeaderRole,
  LeadershipLostError,
  NodeCache,
  WatchedChildren,
  WatchedRead,
} from './recipes/index.js';
export type {
  AclPrincipalsRecord,
  AgentRecord,
  AgentServiceState,
  AgentServiceStatus,
  ApprovalRecord,
  CommandRun,
  ControlAction,
  ControlSource,
  DeploymentClaimRecord,
  DeploymentConfig,
  DeploymentControlRecord,
  DeploymentPlan,
  DeploymentRecord,
  DeploymentRelease,
  DeploymentState,
  DeploymentStep,
  DeploymentTaskRecord,
  DeploymentTransition,
  Drift,
  EnvironmentManifest,
  EnvironmentPointer,
  HeadRecord,
  HistoryRecord,
  HostAssignmentRecord,
  InstanceRecord,
  OmittedApprovals,
  PauseReason,
  PinRecord,
  RecordedApproval,
  RecordedRule,
  RecordKind,
  RefusalRecord,
  RejectedControl,
  Rejection,
  ReleaseRecord,
  Revision,
  Role,
  ServiceRecord,
  SnapshotChange,
  SnapshotRef,
  TaskFailure,
  TaskState,
  TaskTransition,
} from './records/index.js';
export {
  APPROVAL_RECORD_FORMAT,
  CONTROL_ACTIONS,
  CorruptRecordError,
  DEFAULT_NOTES_REF,
  DEPLOYMENT_STATES,
  DIGEST_ID,
  decodeAclPrincipalsRecord,
  decodeAgentRecord,
  decodeApprovalRecord,
  decodeDeploymentClaimRecord,
  decodeDeploymentControlRecord,
  decodeDeploymentRecord,
  decodeDeploymentTaskRecord,
  decodeEnvironmentManifest,
  decodeEnvironmentPointer,
  decodeHeadRecord,
  decodeHistoryRecord,
  decodeHostAssignmentRecord,
  decodeInstanceRecord,
  decodeLogChunk,
  decodePinRecord,
  decodeRefusalRecord,
  decodeReleaseRecord,
  decodeServiceRecord,
  encodeAclPrincipalsRecord,
  encodeAgentRecord,
  encodeDeploymentClaimRecord,
  encodeDeploymentControlRecord,
  encodeDeploymentRecord,
  encodeDeploymentTaskRecord,
  encodeEnvironmentManifest,
  encodeEnvironmentPointer,
  encodeHeadRecord,
  encodeHistoryRecord,
  encodeHostAssignmentRecord,
  encodeInstanceRecord,
  encodeLogChunks,
  encodePinRecord,
  encodeRefusalRecord,
  encodeReleaseRecord,
  encodeServiceRecord,
  isActiveTask,
  isFailedTask,
  isTerminalDeployment,
  isTerminalTask,
  LOG_CHUNK_BYTES,
  LOG_CHUNKS_KEPT,
  MAX_APPROVAL_NOTE_BYTES,
  MAX_CHANGED_PATHS,
  MAX_REFUSAL_DIAGNOSTICS,
  ROLES,
  serializeApprovalRecord,
  serviceRecordOf,
  TASK_STATES,
  taskTransition,
} from './records/index.js';
export type { Rollout } from './release-rollout.js';
export { batchSizeOf, rolloutOf } from './release-rollout.js';
export type { RepoPath } from './repo-layout.js';
export {
  classifyPath,
  POLICY_FILE,
  releaseManifestPath,
  SETTINGS_FILE,
  serviceManifestPath,
  TEMPLATE_EXTENSION,
  templateTarget,
} from './repo-layout.js';
export type { RepoTree, SkippedEntry } from './repo-tree.js';
export { readRepoDir } from './repo-tree.js';
export { decodeText, LineIndex } from './source-text.js';
export type { TempFileOwner } from './stale-temp-files.js';
export { removeStaleTempFiles } from './stale-temp-files.js';
export type {
  DrainingHosts,
  TemplateContext,
  TemplateHost,
  TemplateRoute,
  TemplateService,
} from './templates/index.js';
export { templateContextOf } from './templates/index.js';
export type { TagRef } from './tracked-environments.js';
export { newestMatchingTag } from './tracked-environments.js';
export type { AclDrift } from './zk-acl-audit.js';
export { findAclDrift, repairAclDrift } from './zk-acl-audit.js';
export {
  AclPolicy,
  followAclPolicy,
  formatAcl,
  matchesPolicy,
  readAclPolicy,
  sameAcl,
} from './zk-acl-policy.js';
export type { HostNodeKind, ZkNodeKind } from './zk-layout.js';
export {
  CONTENT_ID,
  controlSeqOf,
  deploymentId,
  deploymentSeqOf,
  historySeqOf,
  logChunkSeqOf,
  ZkLayout,
} from './zk-layout.js';
export type {
  AclOf,
  ElectionOptions,
  ElectionState,
  KeeperEvents,
  RawEndpointSettings,
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
  ZooKeeperEndpoint,
} from './zookeeper/index.js';
export {
  candidateIds,
  connectSession,
  credentialsUser,
  DEFAULT_ENDPOINT_TIMEOUTS,
  digestAclId,
  digestCredentials,
  LeaderElection,
  readCredentialsFile,
  resolveZooKeeperEndpoint,
  SessionKeeper,
  ZK_MAX_REQUEST_BYTES,
  ZK_OPEN_ACL,
  ZK_PERMS,
  ZkError,
  ZkSession,
  ZOOKEEPER_ENV,
  zooKeeperEndpoint,
} from './zookeeper/index.js';
