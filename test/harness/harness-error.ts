/** Stable codes so tests and tooling can tell harness failures apart without matching message text. */
export type HarnessErrorCode =
  | 'WAIT_TIMEOUT'
  | 'ZOOKEEPER_NOT_INSTALLED'
  | 'JAVA_NOT_FOUND'
  | 'ZOOKEEPER_EXITED'
  | 'ZOOKEEPER_START_TIMEOUT'
  | 'ZOOKEEPER_NO_QUORUM'
  | 'GIT_NOT_FOUND'
  | 'GIT_COMMAND_FAILED'
  | 'HARNESS_CLOSED';

/**
 * Every failure of the test harness itself (as opposed to the code under test). The message says
 * what to do next or where to look (a log file, a command's stderr); `code` is what to switch on.
 */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
  readonly code: HarnessErrorCode;

  constructor(code: HarnessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
