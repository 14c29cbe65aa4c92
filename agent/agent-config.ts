import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import {
  parseDuration,
  resolveZooKeeperEndpoint,
  SettingError,
  ZOOKEEPER_ENV,
  type ZooKeeperEndpoint,
} from '../core/index.js';

/** Everything an agent needs, validated: flags, then environment, then defaults. */
export interface AgentConfig {
  readonly endpoint: ZooKeeperEndpoint;
  /** The name the service tree lists this host by. */
  readonly host: string;
  /** Every directory is placed under this folder (agents side by side on one machine). */
  readonly prefix?: string;
  /** Where the agent keeps its copies of what it wrote, applied states and swap journals. */
  readonly stateDir: string;
  readonly driftIntervalMs: number;
  /** Repair drifted files (and reload), or only report them. */
  readonly driftRepair: boolean;
  readonly commandTimeoutMs: number;
  /** Give files the owner service.yaml names; off under a prefix, where agents are not the hosts. */
  readonly applyOwner: boolean;
}

/** Raw settings as flags give them. */
export interface RawAgentSettings {
  readonly zk?: string;
  readonly root?: string;
  /** `--zk-auth-file`: ZooKeeper credentials, one `user:password` a line. */
  readonly zkAuthFile?: string;
  readonly sessionTimeout?: string;
  readonly host?: string;
  readonly prefix?: string;
  readonly stateDir?: string;
  readonly driftInterval?: string;
  readonly drift?: string;
  readonly commandTimeout?: string;
}

/** The environment variables each setting falls back to. */
export const AGENT_ENV = {
  zk: ZOOKEEPER_ENV.zk,
  root: ZOOKEEPER_ENV.root,
  zkAuthFile: ZOOKEEPER_ENV.authFile,
  sessionTimeout: ZOOKEEPER_ENV.sessionTimeout,
  host: 'CAIRN_AGENT_HOST',
  prefix: 'CAIRN_AGENT_PREFIX',
  stateDir: 'CAIRN_AGENT_STATE_DIR',
  driftInterval: 'CAIRN_AGENT_DRIFT_INTERVAL',
  drift: 'CAIRN_AGENT_DRIFT',
  commandTimeout: 'CAIRN_AGENT_COMMAND_TIMEOUT',
} as const;

export function resolveAgentConfig(
  flags: RawAgentSettings,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): AgentConfig {
  const pick = (key: keyof typeof AGENT_ENV): string | undefined => {
    const flag = flags[key];
    if (typeof flag === 'string' && flag !== '') return flag;
    const value = env[AGENT_ENV[key]];
    return value === '' ? undefined : value;
  };
  const endpoint = resolveZooKeeperEndpoint(
    {
      ...(flags.zk !== undefined ? { zk: flags.zk } : {}),
      ...(flags.root !== undefined ? { root: flags.root } : {}),
      ...(flags.zkAuthFile !== undefined ? { authFile: flags.zkAuthFile } : {}),
      ...(flags.sessionTimeout !== undefined ? { sessionTimeout: flags.sessionTimeout } : {}),
    },
    env,
  );
  const host = pick('host') ?? hostname();
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host))
    throw new SettingError('--host', `--host "${host}" is not a host name as the service tree lists hosts`);
  const prefixRaw = pick('prefix');
  const prefix = prefixRaw === undefined ? undefined : resolve(cwd, prefixRaw);
  const drift = pick('drift') ?? 'repair';
  if (drift !== 'repair' && drift !== 'report')
    throw new SettingError(
      '--drift',
      `--drift "${drift}": use repair (write them back) or report (only say so)`,
    );
  const stateDir = pick('stateDir');
  return {
    endpoint,
    host,
    ...(prefix !== undefined ? { prefix } : {}),
    stateDir: stateDir ? resolve(cwd, stateDir) : join(prefix ?? '/', 'var/lib/cairn-agent'),
    driftIntervalMs: parseDuration('--drift-interval', pick('driftInterval') ?? '60s', 100),
    driftRepair: drift === 'repair',
    commandTimeoutMs: parseDuration('--command-timeout', pick('commandTimeout') ?? '30s', 100),
    applyOwner: prefix === undefined,
  };
}
