/**
 * Base of every error Cairn raises on purpose. `code` is stable so callers switch on it instead of
 * matching message text; the message says what is wrong and what to do about it.
 */
export class CairnError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The fields a failure is logged with. An expected one — a CairnError: ZooKeeper or git out of
 * reach, a commit refused — is its code alone (its message says what happened), with no stack
 * trace, which would only suggest a bug; anything else is logged whole, stack and all, as one.
 */
export function errorLogFields(error: unknown): { code: string; err?: unknown } {
  return error instanceof CairnError ? { code: error.code } : { code: 'UNEXPECTED', err: error };
}

/** A path that would be unsafe to use as a file on a host or as a znode in ZooKeeper. */
export class UnsafePathError extends CairnError {
  readonly path: string;

  constructor(path: string, reason: string) {
    super('UNSAFE_PATH', `unsafe path ${JSON.stringify(path)}: ${reason}`);
    this.path = path;
  }
}

/** A directory given to Cairn that does not exist or cannot be read as a config repository. */
export class RepoNotFoundError extends CairnError {
  readonly dir: string;

  constructor(dir: string, reason: string, options?: { cause?: unknown }) {
    super('REPO_NOT_FOUND', `cannot read config repository at ${dir}: ${reason}`, options);
    this.dir = dir;
  }
}
