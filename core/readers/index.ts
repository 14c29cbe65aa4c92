// What Cairn's own views read from ZooKeeper: the terminal's commands (`cairn status`, `history`,
// `deploy`) and the dashboard read through these same functions, so they never disagree.
export type { DeploymentRef, DeploymentStatus } from './read-deployments.js';
export {
  DeploymentNotFoundError,
  newestDeployments,
  readDeployLog,
  readDeploymentStatus,
  resolveDeployment,
} from './read-deployments.js';
export type { Approvals, HistoryEntry } from './read-history.js';
export { historyEntryOf, readHistory } from './read-history.js';
export type {
  CairnStatus,
  DrainedHosts,
  EnvironmentStatus,
  HostState,
  HostStatus,
  InstanceState,
  InstanceStatus,
} from './read-status.js';
export { readStatus, statusHasFindings } from './read-status.js';
