/**
 * The test harness: real ZooKeeper servers and ensembles (from local/, which `cairn start` uses
 * too), a real git smart-HTTP server, working repositories driven by the git CLI, and polling with
 * a deadline. Nothing here is a mock.
 */

export {
  type EnsembleMember,
  fourLetterWord,
  LocalServerError,
  startEnsemble,
  startZooKeeper,
  type WaitForOptions,
  waitFor,
  type ZooKeeperEnsemble,
  type ZooKeeperServer,
  type ZooKeeperServerOptions,
} from '../../local/index.js';
export { createBareRepo, createWorkRepo, type WorkRepo } from './git-repo.js';
export { type GitServer, type GitServerOptions, startGitServer } from './git-server.js';
export { startGitServerProcess } from './git-server-process.js';
export { listenOnLoopback } from './listen-on-loopback.js';
