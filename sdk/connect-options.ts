import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  CairnError,
  parseDuration,
  readCredentialsFile,
  SettingError,
  type ZkLayout,
  ZOOKEEPER_ENV,
  type ZooKeeperEndpoint,
  zooKeeperEndpoint,
} from '../core/index.js';
import { InvalidOptionsError } from './errors.js';
import { type CompiledValidators, compileValidators, type FileValidation } from './file-validators.js';
import { type SdkLogger, SILENT_LOGGER } from './sdk-logger.js';

/**
 * The environment variables options fall back to when not given: the names `cairn` commands use,
 * and those the host agent sets for a service's commands.
 */
export const SDK_ENV = {
  zk: ZOOKEEPER_ENV.zk,
  root: ZOOKEEPER_ENV.root,
  auth: ZOOKEEPER_ENV.auth,
  authFile: ZOOKEEPER_ENV.authFile,
  sessionTimeoutMs: ZOOKEEPER_ENV.sessionTimeout,
  connectTimeoutMs: ZOOKEEPER_ENV.connectTimeout,
  requestTimeoutMs: ZOOKEEPER_ENV.requestTimeout,
  service: 'CAIRN_SERVICE',
  env: 'CAIRN_ENV',
} as const;

/** Environment variables, as `process.env` holds them. */
export type EnvironmentVariables = Readonly<Record<string, string | undefined>>;

/** Where ZooKeeper is and how patient to be with it: shared by connect(), discover() and CairnClient. */
export interface SessionOptions {
  /** The ensemble, `host:port,host:port` (optionally with a chroot suffix). Default: `CAIRN_ZK`. */
  readonly zk?: string;
  /** Cairn's root znode. Default: `CAIRN_ZK_ROOT`, else `/cairn`. */
  readonly root?: string;
  /** Digest credentials `user:password`, presented on every connection. Default: `CAIRN_ZK_AUTH`, else none. */
  readonly auth?: string;
  /**
   * A file of digest credentials, one `user:password` a line (what `cairn acl init` writes), so the
   * password is in neither the code nor the environment. Default: `CAIRN_ZK_AUTH_FILE`, else none.
   */
  readonly authFile?: string;
  /** How long start waits for ZooKeeper before it falls back to the cache (or fails). Default: `CAIRN_ZK_CONNECT_TIMEOUT`, else 5 s. */
  readonly connectTimeoutMs?: number;
  /** The ZooKeeper session timeout; an instance vanishes from discovery this long after it dies. Default: `CAIRN_ZK_SESSION_TIMEOUT`, else 10 s. */
  readonly sessionTimeoutMs?: number;
  /** Deadline of every ZooKeeper call. Default: `CAIRN_ZK_REQUEST_TIMEOUT`, else 5 s. */
  readonly requestTimeoutMs?: number;
  /** Structured logs (a pino logger fits). Default: none; events say everything. */
  readonly logger?: SdkLogger;
}

/** Which service's configuration, in which environment. */
export interface ServiceSelector {
  /** As in the config repository. Default: `CAIRN_SERVICE` (the host agent sets it for a service's commands). */
  readonly service?: string;
  /** Default: `CAIRN_ENV`. */
  readonly env?: string;
}

export interface ZooKeeperOptions extends SessionOptions, ServiceSelector {}

/** How this instance appears under `/instances/<service>/<env>/`. */
export interface InstanceOptions {
  /** Default: the machine's host name. Discovery weights an instance by this host in the service tree. */
  readonly host?: string;
  /** The port the service listens on, for clients that discover it. */
  readonly port?: number;
  /** Unique among the service's instances in the environment. Default `<host>-<pid>-<random>`. */
  readonly id?: string;
}

export interface ConnectOptions extends ZooKeeperOptions {
  /**
   * Read a config repository directory instead of ZooKeeper (offline and test mode): the same model
   * and overlays as the syncer, read again when its files change. No session, cache or registration.
   */
  readonly from?: string;
  /** Where the last good configuration is kept, to start from while ZooKeeper is down. Default: no cache. */
  readonly cacheDir?: string;
  /** Registration in the instance registry; `false` not to register. Default: registered. */
  readonly instance?: InstanceOptions | false;
  /** Per-file validation: a function or a JSON Schema. A commit with a refused file is not applied. */
  readonly validate?: Readonly<Record<string, FileValidation>>;
}

export interface ResolvedSessionOptions {
  readonly endpoint: ZooKeeperEndpoint;
  readonly connectString: string;
  readonly layout: ZkLayout;
  readonly connectTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: SdkLogger;
}

export interface ResolvedZooKeeperOptions extends ResolvedSessionOptions {
  readonly service: string;
  readonly env: string;
}

/** What a client needs in offline mode: the directory instead of a session. */
export interface ResolvedDirectoryOptions {
  readonly mode: 'directory';
  readonly from: string;
  readonly service: string;
  readonly env: string;
  readonly logger: SdkLogger;
  readonly connectTimeoutMs: number;
  readonly cacheDir: undefined;
  readonly instance: undefined;
  readonly validators: CompiledValidators;
  readonly validatedFiles: readonly string[];
}

export interface ResolvedConnectOptions extends ResolvedZooKeeperOptions {
  readonly mode?: 'zookeeper';
  readonly cacheDir: string | undefined;
  readonly instance: { readonly id: string; readonly host: string; readonly port?: number } | undefined;
  readonly validators: CompiledValidators;
  readonly validatedFiles: readonly string[];
}

/**
 * Checks the session options and fills defaults: an option given wins, then its environment
 * variable (SDK_ENV), then the default. Throws InvalidOptionsError naming the first bad option, and
 * the variable when the value came from one.
 */
export function resolveSessionOptions(
  options: SessionOptions,
  variables: EnvironmentVariables = process.env,
): ResolvedSessionOptions {
  if (!options || typeof options !== 'object') throw new InvalidOptionsError('options', 'pass an object');
  const zk = setting(options, variables, 'zk');
  if (zk === undefined)
    throw new InvalidOptionsError(
      'zk',
      `no ZooKeeper ensemble: pass zk: 'host:port,host:port', or set ${SDK_ENV.zk}`,
    );
  const root = setting(options, variables, 'root');
  const auth = setting(options, variables, 'auth');
  const authFile = setting(options, variables, 'authFile');
  if (auth !== undefined && authFile !== undefined)
    throw new InvalidOptionsError(
      'authFile',
      `both auth${auth.variable ? ` (${auth.variable})` : ''} and authFile${authFile.variable ? ` (${authFile.variable})` : ''} give ZooKeeper credentials: keep one`,
    );
  const credentials =
    authFile === undefined
      ? (auth?.value as string | undefined)
      : checked('authFile', () => {
          try {
            return readCredentialsFile(authFile.value as string, 'authFile');
          } catch (error) {
            if (!(error instanceof SettingError)) throw error;
            throw new InvalidOptionsError(
              'authFile',
              error.message.replace('authFile: ', ''),
              authFile.variable,
            );
          }
        });
  const timeouts = {
    connectTimeoutMs: duration(setting(options, variables, 'connectTimeoutMs'), 'connectTimeoutMs', 5_000),
    sessionTimeoutMs: duration(setting(options, variables, 'sessionTimeoutMs'), 'sessionTimeoutMs', 10_000),
    requestTimeoutMs: duration(setting(options, variables, 'requestTimeoutMs'), 'requestTimeoutMs', 5_000),
  };
  const endpoint = checked('zk', () => {
    try {
      return zooKeeperEndpoint({
        connectString: zk.value as string,
        root: (root?.value as string | undefined) ?? '/cairn',
        ...(credentials !== undefined ? { auth: credentials } : {}),
        ...timeouts,
      });
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
      const option = { '--zk': 'zk', '--root': 'root', '--auth': 'auth' }[error.setting] ?? error.setting;
      const from = { zk, root, auth }[option as 'zk' | 'root' | 'auth'];
      throw new InvalidOptionsError(
        option,
        error.message.replace(`${error.setting} `, '').replace(`${error.setting}: `, ''),
        from?.variable,
      );
    }
  });
  return {
    endpoint,
    connectString: endpoint.connectString,
    layout: endpoint.layout,
    connectTimeoutMs: endpoint.connectTimeoutMs,
    sessionTimeoutMs: endpoint.sessionTimeoutMs,
    requestTimeoutMs: endpoint.requestTimeoutMs,
    logger: options.logger ?? SILENT_LOGGER,
  };
}

/** The service and environment, given or from CAIRN_SERVICE and CAIRN_ENV. */
export function resolveServiceSelector(
  options: ServiceSelector,
  variables: EnvironmentVariables = process.env,
): { readonly service: string; readonly env: string } {
  const names: Record<'service' | 'env', string> = { service: '', env: '' };
  for (const name of ['service', 'env'] as const) {
    const found = setting(options, variables, name);
    if (found === undefined)
      throw new InvalidOptionsError(
        name,
        `no ${name === 'env' ? 'environment' : 'service'} named: pass ${name}: '<name>' as in the config repository, or set ${SDK_ENV[name]}`,
      );
    const { value, variable } = found;
    if (typeof value !== 'string' || !/^[a-z][a-z0-9-]{0,62}$/.test(value))
      throw new InvalidOptionsError(
        name,
        `${JSON.stringify(value)} is not a ${name} name (lower-case letters, digits and dashes, as in the config repository)`,
        variable,
      );
    names[name] = value;
  }
  return names;
}

/**
 * connect()'s options in either mode: a directory (`from`) or ZooKeeper. Throws
 * InvalidOptionsError naming the first bad option.
 */
export function resolveClientOptions(
  options: ConnectOptions,
  variables: EnvironmentVariables = process.env,
): ResolvedConnectOptions | ResolvedDirectoryOptions {
  if (!options || typeof options !== 'object') throw new InvalidOptionsError('options', 'pass an object');
  if (options.from === undefined) return resolveConnectOptions(options, variables);
  const { from } = options;
  if (typeof from !== 'string' || from === '')
    throw new InvalidOptionsError('from', 'give the path of a config repository directory');
  for (const option of ['zk', 'cacheDir'] as const)
    if (options[option] !== undefined)
      throw new InvalidOptionsError(option, `not with from: a client reads either a directory or ZooKeeper`);
  if (options.instance !== undefined && options.instance !== false)
    throw new InvalidOptionsError(
      'instance',
      'not with from: a client reading a directory registers nowhere',
    );
  if (options.validate !== undefined && (typeof options.validate !== 'object' || options.validate === null))
    throw new InvalidOptionsError('validate', 'give an object: file path → function or schema');
  const connectTimeoutMs = duration(
    setting(options, variables, 'connectTimeoutMs'),
    'connectTimeoutMs',
    5_000,
  );
  return {
    mode: 'directory',
    from,
    ...resolveServiceSelector(options, variables),
    logger: options.logger ?? SILENT_LOGGER,
    connectTimeoutMs,
    cacheDir: undefined,
    instance: undefined,
    validators: compileValidators(options.validate),
    validatedFiles: Object.keys(options.validate ?? {}),
  };
}

/** Checks options and fills defaults; throws InvalidOptionsError naming the first bad option. */
export function resolveZooKeeperOptions(
  options: ZooKeeperOptions,
  variables: EnvironmentVariables = process.env,
): ResolvedZooKeeperOptions {
  const session = resolveSessionOptions(options, variables);
  return { ...session, ...resolveServiceSelector(options, variables) };
}

export function resolveConnectOptions(
  options: ConnectOptions,
  variables: EnvironmentVariables = process.env,
): ResolvedConnectOptions {
  const base = resolveZooKeeperOptions(options, variables);
  const { cacheDir } = options;
  if (cacheDir !== undefined && (typeof cacheDir !== 'string' || cacheDir === ''))
    throw new InvalidOptionsError('cacheDir', 'give a directory path, or leave it out for no cache');
  if (options.validate !== undefined && (typeof options.validate !== 'object' || options.validate === null))
    throw new InvalidOptionsError('validate', 'give an object: file path → function or JSON Schema');
  return {
    ...base,
    cacheDir,
    instance: resolveInstance(base, options.instance),
    validators: compileValidators(options.validate),
    validatedFiles: Object.keys(options.validate ?? {}),
  };
}

function resolveInstance(
  base: ResolvedZooKeeperOptions,
  instance: InstanceOptions | false | undefined,
): ResolvedConnectOptions['instance'] {
  if (instance === false) return undefined;
  if (instance !== undefined && (typeof instance !== 'object' || instance === null))
    throw new InvalidOptionsError('instance', 'give { host?, port?, id? }, or false not to register');
  const host = instance?.host ?? hostname();
  if (typeof host !== 'string' || host === '' || /[\s/]/.test(host))
    throw new InvalidOptionsError('instance.host', `${JSON.stringify(host)} is not a host name`);
  const port = instance?.port;
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536))
    throw new InvalidOptionsError('instance.port', `${JSON.stringify(port)} is not a TCP port (1–65535)`);
  const id = instance?.id ?? `${host}-${process.pid}-${randomBytes(3).toString('hex')}`;
  checked('instance.id', () => base.layout.instance(base.service, base.env, id));
  return { id, host, ...(port !== undefined ? { port } : {}) };
}

/** An option as given, or else its environment variable (non-empty), with where it came from. */
function setting(
  options: object,
  variables: EnvironmentVariables,
  name: keyof typeof SDK_ENV,
): { readonly value: unknown; readonly variable?: string } | undefined {
  const given = (options as Record<string, unknown>)[name];
  if (given !== undefined) return { value: given };
  const variable = SDK_ENV[name];
  const value = variables[variable];
  return value === undefined || value === '' ? undefined : { value, variable };
}

function duration(
  found: { readonly value: unknown; readonly variable?: string } | undefined,
  name: string,
  fallback: number,
): number {
  if (found === undefined) return fallback;
  const { value, variable } = found;
  if (variable !== undefined) {
    try {
      return parseDuration(variable, value as string);
    } catch (error) {
      throw new InvalidOptionsError(name, (error as Error).message.replace(`${variable} `, ''), variable);
    }
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new InvalidOptionsError(name, `${JSON.stringify(value)} is not a positive number of milliseconds`);
  return value;
}

/** Runs a check of core's, reporting its failure as the SDK option it concerns. */
function checked<T>(option: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof SettingError) {
      const named = { '--zk': 'zk', '--root': 'root' }[error.setting] ?? error.setting;
      throw new InvalidOptionsError(
        named,
        error.message.replace(`${error.setting} `, '').replace(`${error.setting}: `, ''),
      );
    }
    if (error instanceof CairnError && !(error instanceof InvalidOptionsError))
      throw new InvalidOptionsError(option, error.message);
    throw error;
  }
}
