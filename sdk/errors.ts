import { CairnError } from '../core/index.js';

/** A connect() or discover() option that cannot work; the message names the option and a valid value. */
export class InvalidOptionsError extends CairnError {
  readonly option: string;
  /** The environment variable the value came from, when the option was not given. */
  readonly variable: string | undefined;

  constructor(option: string, reason: string, variable?: string) {
    super('INVALID_OPTIONS', `option ${option}${variable ? ` (from ${variable})` : ''}: ${reason}`);
    this.option = option;
    this.variable = variable;
  }
}

/**
 * connect() or discover() could not reach ZooKeeper (or read a consistent state from it) before its
 * deadline; for connect(), there was no usable cache to start from either.
 */
export class ZooKeeperUnreachableError extends CairnError {
  readonly connectString: string;
  readonly cacheDir: string | undefined;

  constructor(
    connectString: string,
    timeoutMs: number,
    detail: string,
    cache: { readonly dir: string | undefined } | undefined,
  ) {
    const fallback =
      cache === undefined
        ? ''
        : cache.dir === undefined
          ? ', and no cacheDir was given to start from (pass cacheDir so the service can start on its last good configuration)'
          : `, and no usable cache in ${cache.dir}`;
    super(
      'ZOOKEEPER_UNREACHABLE',
      `nothing read within ${timeoutMs} ms: ${detail} (ZooKeeper at ${connectString})${fallback}. ` +
        'Check that ZooKeeper runs and is reachable, or raise connectTimeoutMs',
    );
    this.connectString = connectString;
    this.cacheDir = cache?.dir;
  }
}

/** ZooKeeper answered, and holds no configuration for this service and environment. */
export class EnvironmentNotFoundError extends CairnError {
  readonly service: string;
  readonly env: string;

  constructor(service: string, env: string, mirrored: boolean, dir?: string) {
    super(
      'ENVIRONMENT_NOT_FOUND',
      dir !== undefined
        ? `the config repository ${dir} has no files for service "${service}" in environment "${env}": check both ` +
            `names against services/${service}/service.yaml there`
        : mirrored
          ? `ZooKeeper holds no configuration for service "${service}" in environment "${env}": check both names ` +
            `against services/${service}/service.yaml in the config repository`
          : 'nothing has been mirrored into ZooKeeper yet (no /head under the root): start the syncer, or check the root option',
    );
    this.service = service;
    this.env = env;
  }
}

/** Why one file of a commit was refused by the service's validation. */
export interface ValidationFailure {
  readonly file: string;
  readonly reason: string;
}

/** The configuration ZooKeeper holds fails the service's validation at start, and no cache passes it. */
export class ConfigRejectedError extends CairnError {
  readonly commit: string;
  readonly failures: readonly ValidationFailure[];

  constructor(commit: string, failures: readonly ValidationFailure[]) {
    const first = failures[0];
    super(
      'CONFIG_REJECTED',
      `commit ${commit.slice(0, 12)} fails validation in ${failures.length} file(s)` +
        (first ? `, first ${first.file}: ${first.reason}` : '') +
        '; fix the files with a new commit, or start with a cacheDir holding a good configuration',
    );
    this.commit = commit;
    this.failures = failures;
  }
}

/** get() or bytes() of a file this service's environment does not have. */
export class ConfigFileNotFoundError extends CairnError {
  readonly file: string;

  constructor(file: string, available: readonly string[]) {
    const shown = available.slice(0, 20).join(', ');
    super(
      'FILE_NOT_FOUND',
      `no config file "${file}"; this environment has ${available.length === 0 ? 'no files' : shown}` +
        (available.length > 20 ? ', …' : ''),
    );
    this.file = file;
  }
}

/** value() of a key (or file) the environment does not have, and no default was given. */
export class ValueNotFoundError extends CairnError {
  readonly file: string;
  readonly path: string;

  constructor(file: string, path: string, detail: { readonly fileMissing: boolean; readonly at: string }) {
    const where = detail.fileMissing
      ? `there is no file "${file}"`
      : detail.at === ''
        ? `"${file}" has no key "${path.split(/[.[]/)[0]}"`
        : `"${file}" has "${detail.at}" but nothing at "${path}" below it`;
    super(
      'VALUE_NOT_FOUND',
      `no value at "${path}" in ${file}: ${where}; add it to the config repository, or pass { default }`,
    );
    this.file = file;
    this.path = path;
  }
}

/** value() found a value its schema (or its default's type) refuses. */
export class ValueInvalidError extends CairnError {
  readonly file: string;
  readonly path: string;
  readonly reason: string;

  constructor(file: string, path: string, reason: string) {
    super(
      'VALUE_INVALID',
      `the value at "${path}" in ${file} ${reason}; fix it with a commit, or validate ${file} at connect() so such a commit is refused whole`,
    );
    this.file = file;
    this.path = path;
    this.reason = reason;
  }
}

/** A call on a client that was closed, or used before start(). */
export class ClientStateError extends CairnError {
  constructor(
    code: 'CLIENT_CLOSED' | 'CLIENT_NOT_STARTED' | 'CLIENT_ALREADY_STARTED' | 'CLIENT_OFFLINE',
    message: string,
  ) {
    super(code, message);
  }
}

export type SdkWarningCode =
  /** A cache file failed its checksum or could not be decoded: ignored, never served. */
  | 'CACHE_CORRUPT'
  /** A cache file exists and could not be read (permissions, a directory in its place). */
  | 'CACHE_UNREADABLE'
  /** The cache could not be written (read-only or missing directory, full disk): the service keeps running. */
  | 'CACHE_UNWRITABLE'
  /** ZooKeeper could not be reached (yet): the client keeps serving what it has and keeps trying. */
  | 'ZOOKEEPER_UNREACHABLE'
  /** Reading the environment from ZooKeeper failed; it is read again. */
  | 'SNAPSHOT_READ_FAILED'
  /** ZooKeeper lost its whole tree (no /head): the last configuration is kept. */
  | 'ENVIRONMENT_MISSING'
  /** Writing this instance's registration failed; it is written again. */
  | 'REGISTRATION_FAILED'
  /** Another live session holds this instance's id. */
  | 'REGISTRATION_CONFLICT'
  /** A commit gave a watched value one its schema refuses: its listener is not called. */
  | 'VALUE_INVALID'
  /** Joining an active/standby election failed; it is joined again. */
  | 'ELECTION_FAILED'
  /** A listener threw or rejected; the other listeners still ran. */
  | 'LISTENER_FAILED'
  /** An instance node under /instances could not be decoded; discovery skips it. */
  | 'INSTANCE_UNREADABLE';

/** Something went wrong that the client survives; emitted as a `warning` event and logged. */
export class SdkWarning extends CairnError {
  declare readonly code: SdkWarningCode;

  constructor(code: SdkWarningCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
