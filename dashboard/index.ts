// The public surface of dashboard/: every exported name is listed here on purpose.
export type { DashboardOptions } from './dashboard.js';
export { Dashboard } from './dashboard.js';
export { DashboardNotFoundError, DashboardRequestError } from './errors.js';
export type { DiffHunk, DiffLine, LineDiff } from './line-diff.js';
export type {
  CommitChanges,
  DeploymentView,
  FileChange,
  FileContent,
  FileDiff,
  FilePage,
  Overview,
} from './read-model.js';
export {
  readDeploymentView,
  readFileContent,
  readFilePage,
  readHistoryPage,
  readOverview,
} from './read-model.js';
