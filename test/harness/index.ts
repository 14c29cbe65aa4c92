/**
 * The test harness: real ZooKeeper servers and ensembles, a real git smart-HTTP server, working
 * repositories driven by the git CLI, and polling with a deadline. Nothing here is a mock.
 */

export { createBareRepo, createWorkRepo, type WorkRepo } from './git-repo.js';
export { type GitServer, startGitServer } from './git-server.js';
export { HarnessError, type HarnessErrorCode } from './harness-error.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
export {
  type EnsembleMember,
  fourLetterWord,
  startEnsemble,
  startZooKeeper,
  type ZooKeeperEnsemble,
  type ZooKeeperServer,
  type ZooKeeperServerOptions,
} from './zookeeper.js';
