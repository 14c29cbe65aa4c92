import { parseDuration, SettingError } from '../duration.js';
import { ZkLayout } from '../zk-layout.js';
import type { ZkAuth } from './zk-client.js';
import { parseCredentialsList, readCredentialsFile } from './zk-credentials.js';

/**
 * Where Cairn's data lives in ZooKeeper and how patient to be with it: one value every command, the
 * syncer, the agent and the SDK resolve once and hand to the session and recipes.
 */
export interface ZooKeeperEndpoint {
  /** The ensemble, `host:port,host:port`, optionally with a chroot suffix. */
  readonly connectString: string;
  /** Cairn's root znode. */
  readonly layout: ZkLayout;
  /** The session timeout asked of the ensemble; a dead holder's ephemeral nodes vanish after it. */
  readonly sessionTimeoutMs: number;
  /** How long one connection attempt waits before giving up. */
  readonly connectTimeoutMs: number;
  /** Deadline of every ZooKeeper call. */
  readonly requestTimeoutMs: number;
  /**
   * Credentials every session presents (digest `user:password`, kept out of logs); ACLs name them.
   * With credentials, sessions create nodes with the ACLs of the root's policy (zk-acl-policy.ts).
   */
  readonly auth?: readonly ZkAuth[];
}

/** The environment variables endpoint settings fall back to, after flags. */
export const ZOOKEEPER_ENV = {
  zk: 'CAIRN_ZK',
  root: 'CAIRN_ZK_ROOT',
  sessionTimeout: 'CAIRN_ZK_SESSION_TIMEOUT',
  connectTimeout: 'CAIRN_ZK_CONNECT_TIMEOUT',
  requestTimeout: 'CAIRN_ZK_REQUEST_TIMEOUT',
  /** Digest credentials, `user:password[,user:password]`. */
  auth: 'CAIRN_ZK_AUTH',
  /** A file of digest credentials, one `user:password` a line: keeps passwords out of argv and env. */
  authFile: 'CAIRN_ZK_AUTH_FILE',
} as const;

/** Endpoint settings as flags (or an options object) give them: strings, possibly missing. */
export interface RawEndpointSettings {
  readonly zk?: string;
  readonly root?: string;
  readonly sessionTimeout?: string;
  readonly connectTimeout?: string;
  readonly requestTimeout?: string;
  readonly auth?: string;
  readonly authFile?: string;
}

export const DEFAULT_ENDPOINT_TIMEOUTS = {
  sessionTimeoutMs: 10_000,
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
} as const;

const CONNECT_STRING = /^[^,\s/]+:\d{1,5}(,[^,\s/]+:\d{1,5})*(\/[^\s,]*)?$/;

/**
 * Resolves flags, then environment variables, then defaults, into an endpoint; throws SettingError
 * naming the flag and its variable when a value is missing or malformed.
 */
export function resolveZooKeeperEndpoint(
  flags: RawEndpointSettings,
  env: Readonly<Record<string, string | undefined>>,
  defaults: Partial<Record<keyof typeof DEFAULT_ENDPOINT_TIMEOUTS, number>> = {},
): ZooKeeperEndpoint {
  const pick = (key: keyof typeof ZOOKEEPER_ENV): string | undefined => {
    const flag = flags[key];
    if (typeof flag === 'string' && flag !== '') return flag;
    const value = env[ZOOKEEPER_ENV[key]];
    return value === '' ? undefined : value;
  };
  const zk = pick('zk');
  if (!zk)
    throw new SettingError('--zk', `no ZooKeeper: pass --zk <host:port,...> or set ${ZOOKEEPER_ENV.zk}`);
  const timeouts: Record<keyof typeof DEFAULT_ENDPOINT_TIMEOUTS, number> = {
    ...DEFAULT_ENDPOINT_TIMEOUTS,
    ...defaults,
  };
  const duration = (key: 'sessionTimeout' | 'connectTimeout' | 'requestTimeout', fallback: number) => {
    const value = pick(key);
    return value === undefined ? fallback : parseDuration(flagName(key), value);
  };
  const auth = pick('auth');
  const authFile = pick('authFile');
  if (auth !== undefined && authFile !== undefined)
    throw new SettingError(
      '--zk-auth-file',
      `both ${ZOOKEEPER_ENV.auth} and a credentials file (--zk-auth-file or ${ZOOKEEPER_ENV.authFile}) give ZooKeeper credentials: keep one`,
    );
  const credentials = authFile !== undefined ? readCredentialsFile(authFile, '--zk-auth-file') : auth;
  return zooKeeperEndpoint({
    connectString: zk,
    root: pick('root') ?? '/cairn',
    ...(credentials !== undefined ? { auth: credentials } : {}),
    sessionTimeoutMs: duration('sessionTimeout', timeouts.sessionTimeoutMs),
    connectTimeoutMs: duration('connectTimeout', timeouts.connectTimeoutMs),
    requestTimeoutMs: duration('requestTimeout', timeouts.requestTimeoutMs),
  });
}

/** Checks an endpoint given as values (the SDK's options); throws SettingError on a bad one. */
export function zooKeeperEndpoint(settings: {
  readonly connectString: string;
  readonly root: string;
  readonly sessionTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Digest credentials, `user:password[,user:password]`, or those of a credentials file. */
  readonly auth?: string | readonly ZkAuth[];
}): ZooKeeperEndpoint {
  const { connectString, root, auth } = settings;
  if (typeof connectString !== 'string' || !CONNECT_STRING.test(connectString))
    throw new SettingError(
      '--zk',
      `${JSON.stringify(connectString)} is not a host:port list like zk1:2181,zk2:2181`,
    );
  let layout: ZkLayout;
  try {
    layout = new ZkLayout(root);
  } catch (error) {
    throw new SettingError('--root', `--root: ${(error as Error).message}`);
  }
  for (const key of ['sessionTimeoutMs', 'connectTimeoutMs', 'requestTimeoutMs'] as const) {
    const value = settings[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      throw new SettingError(key, `${key} ${JSON.stringify(value)} is not a positive number of milliseconds`);
  }
  if (auth !== undefined && typeof auth !== 'string' && !Array.isArray(auth))
    throw new SettingError('--auth', 'ZooKeeper credentials read user:password (digest)');
  return {
    connectString,
    layout,
    ...(auth !== undefined
      ? { auth: typeof auth === 'string' ? parseCredentialsList(auth, '--auth') : auth }
      : {}),
    sessionTimeoutMs: settings.sessionTimeoutMs,
    connectTimeoutMs: settings.connectTimeoutMs,
    requestTimeoutMs: settings.requestTimeoutMs,
  };
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
