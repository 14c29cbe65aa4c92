import { CairnError } from '../core/index.js';

/** A file the agent would write or remove outside the service's directory: refused, nothing written. */
export class UnsafeTargetError extends CairnError {
  readonly directory: string;
  readonly file: string;

  constructor(directory: string, file: string, reason: string) {
    super('UNSAFE_TARGET', `refusing to write ${file} in ${directory}: ${reason}`);
    this.directory = directory;
    this.file = file;
  }
}

/** The service's files cannot be given the owner service.yaml names on this host. */
export class OwnerNotFoundError extends CairnError {
  constructor(owner: string, options?: { cause?: unknown }) {
    super(
      'OWNER_NOT_FOUND',
      `files.owner "${owner}" is not a user on this host: create the user, or change files.owner in service.yaml`,
      options,
    );
  }
}
