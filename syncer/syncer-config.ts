import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CairnError, ZkLayout } from '../core/index.js';

/** Everything a syncer needs, validated: one typed source built from flags, then environment, then defaults. */
export interface SyncerConfig {
  readonly repo: string;
  readonly branch: string;
  readonly zk: string;
  readonly root: string;
  readonly mode: 'once' | 'watch';
  readonly pollIntervalMs: number;
  readonly listen?: { readonly host: string; readonly port: number };
  readonly webhookSecret?: string;
  readonly cacheDir: string;
  readonly sessionTimeoutMs: number;
  /** How this replica names itself in the election (host:pid by default). */
  readonly replicaId: string;
  /**
   * Told how long work goes, for a person watching (`cairn start` draws a bar): so far, how many
   * files a read of a whole tree (the first sync) has read. Not a setting of flags or environment.
   */
  readonly onProgress?: (progress: SyncProgress) => void;
}

/** How far a long piece of a sync has come. */
export interface SyncProgress {
  /** Reading every file of a commit: the first sync after a start, or after history was rewritten. */
  readonly phase: 'reading';
  readonly done: number;
  readonly total: number;
}

export class SyncerConfigError extends CairnError {
  constructor(message: string) {
    super('SYNCER_CONFIG', message);
  }
}

/** Raw settings as flags and environment give them: strings, possibly missing. */
export interface RawSyncerSettings {
  readonly repo?: string;
  readonly branch?: string;
  readonly zk?: string;
  readonly root?: string;
  readonly once?: boolean;
  readonly watch?: boolean;
  readonly poll?: string;
  readonly listen?: string;
  readonly webhookSecret?: string;
  readonly cacheDir?: string;
  readonly sessionTimeout?: string;
  readonly replicaId?: string;
}

/** The environment variables each setting falls back to. */
export const SYNCER_ENV = {
  repo: 'CAIRN_REPO',
  branch: 'CAIRN_BRANCH',
  zk: 'CAIRN_ZK',
  root: 'CAIRN_ZK_ROOT',
  poll: 'CAIRN_POLL',
  listen: 'CAIRN_LISTEN',
  webhookSecret: 'CAIRN_WEBHOOK_SECRET',
  cacheDir: 'CAIRN_CACHE_DIR',
  sessionTimeout: 'CAIRN_ZK_SESSION_TIMEOUT',
  replicaId: 'CAIRN_REPLICA_ID',
} as const;

export function resolveSyncerConfig(
  flags: RawSyncerSettings,
  env: NodeJS.ProcessEnv,
  defaults: { hostname: string; pid: number },
): SyncerConfig {
  const pick = (key: keyof typeof SYNCER_ENV): string | undefined => {
    const flag = flags[key];
    if (typeof flag === 'string' && flag !== '') return flag;
    const fromEnv = env[SYNCER_ENV[key]];
    return fromEnv === '' ? undefined : fromEnv;
  };
  const repo = pick('repo');
  if (!repo)
    throw new SyncerConfigError(`no repository: pass --repo <git URL or path> or set ${SYNCER_ENV.repo}`);
  const zk = pick('zk');
  if (!zk) throw new SyncerConfigError(`no ZooKeeper: pass --zk <host:port,...> or set ${SYNCER_ENV.zk}`);
  if (!/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/.test(zk))
    throw new SyncerConfigError(`--zk "${zk}" is not a host:port list like zk1:2181,zk2:2181`);
  if (flags.once && flags.watch)
    throw new SyncerConfigError('--once and --watch exclude each other: choose one');
  const root = pick('root') ?? '/cairn';
  try {
    new ZkLayout(root);
  } catch (error) {
    throw new SyncerConfigError(`--root: ${(error as Error).message}`);
  }
  const webhookSecret = pick('webhookSecret');
  const listenRaw = pick('listen');
  const listen = listenRaw ? parseListen(listenRaw) : undefined;
  if (listen && !webhookSecret) {
    // An unauthenticated webhook would let anyone make the syncer fetch: refuse to start without one.
    throw new SyncerConfigError(
      `--listen needs --webhook-secret (or ${SYNCER_ENV.webhookSecret}): webhooks are verified with it`,
    );
  }
  const branch = pick('branch') ?? 'main';
  return {
    repo,
    branch,
    zk,
    root,
    mode: flags.once ? 'once' : 'watch',
    pollIntervalMs: parseDuration('--poll', pick('poll') ?? '30s'),
    ...(listen ? { listen } : {}),
    ...(webhookSecret ? { webhookSecret } : {}),
    cacheDir:
      pick('cacheDir') ??
      join(
        tmpdir(),
        'cairn-syncer-cache',
        Buffer.from(`${repo}#${branch}`).toString('base64url').slice(0, 80),
      ),
    sessionTimeoutMs: parseDuration('--session-timeout', pick('sessionTimeout') ?? '10s'),
    replicaId: pick('replicaId') ?? `${defaults.hostname}:${defaults.pid}`,
  };
}

/** "500ms", "30s", "5m" or a number of milliseconds. */
export function parseDuration(name: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new SyncerConfigError(`${name} "${value}" is not a duration: use e.g. 500ms, 30s or 5m`);
  const amount = Number(match[1]);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1;
  const ms = Math.round(amount * unit);
  if (ms < 10) throw new SyncerConfigError(`${name} "${value}" is too short: at least 10ms`);
  return ms;
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:(.*):)?(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535)
    throw new SyncerConfigError(`--listen "${value}" is not [host:]port, e.g. 0.0.0.0:8080`);
  return { host: match[1] || '0.0.0.0', port };
}
