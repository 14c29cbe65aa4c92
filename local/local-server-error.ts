import { CairnError } from '../core/index.js';

/** Stable codes so callers can tell local-server failures apart without matching message text. */
export type LocalServerErrorCode =
  | 'WAIT_TIMEOUT'
  | 'ZOOKEEPER_NOT_INSTALLED'
  | 'JAVA_NOT_FOUND'
  | 'ZOOKEEPER_EXITED'
  | 'ZOOKEEPER_START_TIMEOUT'
  | 'ZOOKEEPER_NO_QUORUM'
  | 'GIT_NOT_FOUND'
  | 'GIT_COMMAND_FAILED'
  | 'SERVER_CLOSED';

/**
 * A throwaway local server (ZooKeeper, git) that could not be started, reached or stopped. The
 * message says what to do next or where to look (a log file, a command's stderr).
 */
export class LocalServerError extends CairnError {
  declare readonly code: LocalServerErrorCode;

  constructor(code: LocalServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
