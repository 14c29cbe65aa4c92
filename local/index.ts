/**
 * Throwaway local servers on free loopback ports in temp dirs: ZooKeeper from the Debian package
 * (standalone or an ensemble), as `cairn start` and the tests run them. Every process started here
 * is killed when this process exits, however it exits.
 */
export {
  createTempDir,
  createTempDirSync,
  killOnExit,
  onShutdownSignal,
  removeTempDir,
} from './exit-cleanup.js';
export { findFreePorts, isPortFree } from './free-ports.js';
export { importDirectoryAsRepo } from './import-directory.js';
export { LocalServerError, type LocalServerErrorCode } from './local-server-error.js';
export { type WaitForOptions, waitFor } from './wait-for.js';
export {
  type EnsembleMember,
  fourLetterWord,
  type StandaloneServerOptions,
  startEnsemble,
  startZooKeeper,
  type ZooKeeperEnsemble,
  type ZooKeeperServer,
  type ZooKeeperServerOptions,
} from './zookeeper.js';
