// One module per record Cairn keeps in ZooKeeper: an encoder, a decoder that validates and fails with
// a CorruptRecordError, and the defaults. Nothing outside core/records parses a record's JSON.

export type { AclPrincipalsRecord, Role } from './acl-principals-record.js';
export {
  DIGEST_ID,
  decodeAclPrincipalsRecord,
  encodeAclPrincipalsRecord,
  ROLES,
} from './acl-principals-record.js';
export type {
  AgentRecord,
  AgentServiceState,
  AgentServiceStatus,
  CommandRun,
  Drift,
  Rejection,
} from './agent-record.js';
export { decodeAgentRecord, encodeAgentRecord } from './agent-record.js';
export type { ApprovalRecord, RecordedApproval, RecordedRule } from './approval-record.js';
export {
  APPROVAL_RECORD_FORMAT,
  DEFAULT_NOTES_REF,
  decodeApprovalRecord,
  MAX_APPROVAL_NOTE_BYTES,
  serializeApprovalRecord,
} from './approval-record.js';
export type { DeploymentClaimRecord } from './deployment-claim-record.js';
export { decodeDeploymentClaimRecord, encodeDeploymentClaimRecord } from './deployment-claim-record.js';
export type { ControlAction, ControlSource, DeploymentControlRecord } from './deployment-control-record.js';
export {
  CONTROL_ACTIONS,
  decodeDeploymentControlRecord,
  encodeDeploymentControlRecord,
} from './deployment-control-record.js';
export {
  decodeLogChunk,
  encodeLogChunks,
  LOG_CHUNK_BYTES,
  LOG_CHUNKS_KEPT,
} from './deployment-log-chunk.js';
export type {
  DeploymentConfig,
  DeploymentPlan,
  DeploymentRecord,
  DeploymentRelease,
  DeploymentState,
  DeploymentStep,
  DeploymentTransition,
  PauseReason,
  RejectedControl,
} from './deployment-record.js';
export {
  DEPLOYMENT_STATES,
  decodeDeploymentRecord,
  encodeDeploymentRecord,
  isTerminalDeployment,
  MAX_TRANSITIONS,
} from './deployment-record.js';
export type {
  DeploymentTaskRecord,
  TaskFailure,
  TaskState,
  TaskTransition,
} from './deployment-task-record.js';
export {
  decodeDeploymentTaskRecord,
  encodeDeploymentTaskRecord,
  isActiveTask,
  isFailedTask,
  isTerminalTask,
  TASK_STATES,
  taskTransition,
} from './deployment-task-record.js';
export type { EnvironmentManifest } from './environment-manifest.js';
export { decodeEnvironmentManifest, encodeEnvironmentManifest } from './environment-manifest.js';
export type { EnvironmentPointer, SnapshotRef } from './environment-pointer.js';
export { decodeEnvironmentPointer, encodeEnvironmentPointer } from './environment-pointer.js';
export type { HeadRecord } from './head-record.js';
export { decodeHeadRecord, encodeHeadRecord } from './head-record.js';
export type { HistoryRecord, OmittedApprovals, SnapshotChange } from './history-record.js';
export { decodeHistoryRecord, encodeHistoryRecord, MAX_CHANGED_PATHS } from './history-record.js';
export type { HostAssignmentRecord } from './host-assignment-record.js';
export { decodeHostAssignmentRecord, encodeHostAssignmentRecord } from './host-assignment-record.js';
export type { InstanceRecord } from './instance-record.js';
export { decodeInstanceRecord, encodeInstanceRecord } from './instance-record.js';
export type { PinRecord } from './pin-record.js';
export { decodePinRecord, encodePinRecord } from './pin-record.js';
export type { RecordKind } from './record-fields.js';
export { CorruptRecordError } from './record-fields.js';
export type { RefusalRecord } from './refusal-record.js';
export { decodeRefusalRecord, encodeRefusalRecord, MAX_REFUSAL_DIAGNOSTICS } from './refusal-record.js';
export type { ReleaseRecord } from './release-record.js';
export { decodeReleaseRecord, encodeReleaseRecord } from './release-record.js';
export type { Revision } from './revision.js';
export type { ServiceRecord } from './service-record.js';
export { decodeServiceRecord, encodeServiceRecord, serviceRecordOf } from './service-record.js';
