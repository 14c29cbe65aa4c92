import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  CairnError,
  SettingError,
  type ZkLayout,
  type ZooKeeperEndpoint,
  zooKeeperEndpoint,
} from '../core/index.js';
import { InvalidOptionsError } from './errors.js';
import { type CompiledValidators, compileValidators, type FileValidation } from './file-validators.js';
import { type SdkLogger, SILENT_LOGGER } from './sdk-logger.js';

/** Where ZooKeeper is and how patient to be with it: shared by connect() and discover(). */
export interface ZooKeeperOptions {
  /** The ensemble, `host:port,host:port` (optionally with a chroot suffix). */
  readonly zk: string;
  readonly service: string;
  readonly env: string;
  /** Cairn's root znode. Default `/cairn`. */
  readonly root?: string;
  /** How long start waits for ZooKeeper before it falls back to the cache (or fails). Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** The ZooKeeper session timeout; an instance vanishes from discovery this long after it dies. Default 10 s. */
  readonly sessionTimeoutMs?: number;
  /** Deadline of every ZooKeeper call. Default 5 s. */
  readonly requestTimeoutMs?: number;
  /** Structured logs (a pino logger fits). Default: none; events say everything. */
  readonly logger?: SdkLogger;
}

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
  /** Where the last good configuration is kept, to start from while ZooKeeper is down. Default: no cache. */
  readonly cacheDir?: string;
  /** Registration in the instance registry; `false` not to register. Default: registered. */
  readonly instance?: InstanceOptions | false;
  /** Per-file validation: a function or a JSON Schema. A commit with a refused file is not applied. */
  readonly validate?: Readonly<Record<string, FileValidation>>;
}

export interface ResolvedZooKeeperOptions {
  readonly endpoint: ZooKeeperEndpoint;
  readonly connectString: string;
  readonly service: string;
  readonly env: string;
  readonly layout: ZkLayout;
  readonly connectTimeoutMs: number;
  readonly sessionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: SdkLogger;
}

export interface ResolvedConnectOptions extends ResolvedZooKeeperOptions {
  readonly cacheDir: string | undefined;
  readonly instance: { readonly id: string; readonly host: string; readonly port?: number } | undefined;
  readonly validators: CompiledValidators;
  readonly validatedFiles: readonly string[];
}

/** Checks options and fills defaults; throws InvalidOptionsError naming the first bad option. */
export function resolveZooKeeperOptions(options: ZooKeeperOptions): ResolvedZooKeeperOptions {
  if (!options || typeof options !== 'object') throw new InvalidOptionsError('options', 'pass an object');
  const { zk, service, env } = options;
  const timeouts = {
    connectTimeoutMs: duration('connectTimeoutMs', options.connectTimeoutMs, 5_000),
    sessionTimeoutMs: duration('sessionTimeoutMs', options.sessionTimeoutMs, 10_000),
    requestTimeoutMs: duration('requestTimeoutMs', options.requestTimeoutMs, 5_000),
  };
  const endpoint = checked('zk', () =>
    zooKeeperEndpoint({ connectString: zk, root: options.root ?? '/cairn', ...timeouts }),
  );
  for (const [name, value] of [
    ['service', service],
    ['env', env],
  ] as const) {
    if (typeof value !== 'string' || !/^[a-z][a-z0-9-]{0,62}$/.test(value))
      throw new InvalidOptionsError(
        name,
        `${JSON.stringify(value)} is not a ${name} name (lower-case letters, digits and dashes, as in the config repository)`,
      );
  }
  return {
    endpoint,
    connectString: endpoint.connectString,
    service,
    env,
    layout: endpoint.layout,
    connectTimeoutMs: endpoint.connectTimeoutMs,
    sessionTimeoutMs: endpoint.sessionTimeoutMs,
    requestTimeoutMs: endpoint.requestTimeoutMs,
    logger: options.logger ?? SILENT_LOGGER,
  };
}

export function resolveConnectOptions(options: ConnectOptions): ResolvedConnectOptions {
  const base = resolveZooKeeperOptions(options);
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

function duration(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
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
