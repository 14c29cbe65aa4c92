// The public surface of syncer/git/: every exported name is listed here on purpose.
export type { CommitInfo } from './commit-info.js';
export {
  BranchNotFoundError,
  CommitNotFoundError,
  GitUnreachableError,
  RepackError,
  RepositoryNotFoundError,
  UnsafeTreeEntryError,
  UnsupportedGitUrlError,
} from './errors.js';
export type { GitCredentialSources, GitCredentials } from './git-credentials.js';
export { resolveGitCredentials, TOKEN_USERNAME } from './git-credentials.js';
export type { GitSource, GitSourceOptions, PackCompaction } from './git-source.js';
export { DEFAULT_GIT_TIMEOUT_MS, DEFAULT_PACK_LIMIT, openGitSource } from './git-source.js';
export type { TreeSnapshot, TreeUpdate } from './read-tree.js';
export { withoutCredentials } from './source-location.js';
export type { TreeLimits } from './tree-limits.js';
export { DEFAULT_TREE_LIMITS, TreeLimitError } from './tree-limits.js';
