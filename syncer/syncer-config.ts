import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_NOTES_REF,
  parseDuration,
  resolveZooKeeperEndpoint,
  SettingError,
  ZOOKEEPER_ENV,
  type ZooKeeperEndpoint,
} from '../core/index.js';
import {
  DEFAULT_GIT_TIMEOUT_MS,
  type GitCredentials,
  resolveGitCredentials,
  type TreeLimits,
  withoutCredentials,
} from './git/index.js';

/** Everything a syncer needs, validated: one typed source built from flags, then environment, then defaults. */
export interface SyncerConfig {
  readonly repo: string;
  /** For an http(s) repository, from --git-credentials-file or CAIRN_GIT_TOKEN (never in the URL). */
  readonly gitCredentials?: GitCredentials;
  readonly branch: string;
  readonly endpoint: ZooKeeperEndpoint;
  readonly mode: 'once' | 'watch';
  readonly pollIntervalMs: number;
  readonly listen?: { readonly host: string; readonly port: number };
  readonly webhookSecret?: string;
  readonly cacheDir: string;
  /**
   * `cacheDir` is the default, named after the repository and branch, not one given: a second
   * replica on the machine then takes the next free folder beside it instead of failing.
   */
  readonly cacheDirIsDefault?: boolean;
  /** Where the bot records approvals as git notes. */
  readonly notesRef: string;
  /** How this replica names itself in the election (host:pid by default). */
  readonly replicaId: string;
  /**
   * Told how long work goes, for a person watching (`cairn start` draws a bar): so far, how many
   * files a read of a whole tree (the first sync) has read. Not a setting of flags or environment.
   */
  readonly onProgress?: (progress: SyncProgress) => void;
  /** How often the leader looks for ACLs changed by hand (default 5 min). Not a setting of flags. */
  readonly aclAuditIntervalMs?: number;
  /** How large a commit's tree is read (--max-files, --max-path-depth); larger ones are refused. */
  readonly treeLimits?: Partial<TreeLimits>;
  /** How long a fetch waits for the git server's answer, or for its next bytes (--git-timeout). */
  readonly gitTimeoutMs: number;
  /** How many packs the clone may hold before it is repacked (default 50). Not a setting of flags. */
  readonly packLimit?: number;
}

/** How far a long piece of a sync has come. */
export interface SyncProgress {
  /** Reading every file of a commit: the first sync after a start, or after history was rewritten. */
  readonly phase: 'reading';
  readonly done: number;
  readonly total: number;
}

/** Raw settings as flags and environment give them: strings, possibly missing. */
export interface RawSyncerSettings {
  readonly repo?: string;
  readonly branch?: string;
  readonly zk?: string;
  readonly root?: string;
  /** `--zk-auth-file`: ZooKeeper credentials, one `user:password` a line. */
  readonly zkAuthFile?: string;
  readonly once?: boolean;
  readonly watch?: boolean;
  readonly poll?: string;
  readonly listen?: string;
  readonly webhookSecret?: string;
  readonly webhookSecretFile?: string;
  readonly gitCredentialsFile?: string;
  readonly gitTimeout?: string;
  readonly cacheDir?: string;
  readonly sessionTimeout?: string;
  readonly notesRef?: string;
  readonly replicaId?: string;
  readonly maxFiles?: string;
  readonly maxPathDepth?: string;
}

/** The environment variables each setting falls back to. */
export const SYNCER_ENV = {
  repo: 'CAIRN_REPO',
  branch: 'CAIRN_BRANCH',
  zk: ZOOKEEPER_ENV.zk,
  root: ZOOKEEPER_ENV.root,
  zkAuthFile: ZOOKEEPER_ENV.authFile,
  poll: 'CAIRN_POLL',
  listen: 'CAIRN_LISTEN',
  webhookSecret: 'CAIRN_WEBHOOK_SECRET',
  webhookSecretFile: 'CAIRN_WEBHOOK_SECRET_FILE',
  gitCredentialsFile: 'CAIRN_GIT_CREDENTIALS_FILE',
  gitToken: 'CAIRN_GIT_TOKEN',
  gitTimeout: 'CAIRN_GIT_TIMEOUT',
  cacheDir: 'CAIRN_CACHE_DIR',
  sessionTimeout: ZOOKEEPER_ENV.sessionTimeout,
  notesRef: 'CAIRN_NOTES_REF',
  replicaId: 'CAIRN_REPLICA_ID',
  maxFiles: 'CAIRN_MAX_FILES',
  maxPathDepth: 'CAIRN_MAX_PATH_DEPTH',
} as const;

export function resolveSyncerConfig(
  flags: RawSyncerSettings,
  env: NodeJS.ProcessEnv,
  defaults: { hostname: string; pid: number },
): SyncerConfig {
  const pick = (key: keyof typeof SYNCER_ENV): string | undefined => {
    const flag = key === 'gitToken' ? undefined : flags[key];
    if (typeof flag === 'string' && flag !== '') return flag;
    const fromEnv = env[SYNCER_ENV[key]];
    return fromEnv === '' ? undefined : fromEnv;
  };
  const repo = pick('repo');
  if (!repo)
    throw new SettingError(
      '--repo',
      `no repository: pass --repo <git URL or path> or set ${SYNCER_ENV.repo}`,
    );
  const endpoint = resolveZooKeeperEndpoint(
    {
      ...(flags.zk !== undefined ? { zk: flags.zk } : {}),
      ...(flags.root !== undefined ? { root: flags.root } : {}),
      ...(flags.zkAuthFile !== undefined ? { authFile: flags.zkAuthFile } : {}),
      ...(flags.sessionTimeout !== undefined ? { sessionTimeout: flags.sessionTimeout } : {}),
    },
    env,
    // Waiting longer to connect than a session lasts buys nothing.
    { connectTimeoutMs: 10_000 },
  );
  if (flags.once && flags.watch)
    throw new SettingError('--once', '--once and --watch exclude each other: choose one');
  const webhookSecret = readWebhookSecret(pick('webhookSecretFile'), pick('webhookSecret'));
  const gitCredentialsFile = pick('gitCredentialsFile');
  const gitToken = pick('gitToken');
  const gitCredentials = /^https?:\/\//i.test(repo)
    ? resolveGitCredentials(repo, {
        ...(gitCredentialsFile ? { file: gitCredentialsFile } : {}),
        ...(gitToken ? { token: gitToken } : {}),
      })
    : undefined;
  const listenRaw = pick('listen');
  const listen = listenRaw ? parseListen(listenRaw) : undefined;
  if (listen && !webhookSecret) {
    // An unauthenticated webhook would let anyone make the syncer fetch: refuse to start without one.
    throw new SettingError(
      '--listen',
      `--listen needs --webhook-secret-file (or ${SYNCER_ENV.webhookSecretFile}, or ${SYNCER_ENV.webhookSecret}): webhooks are verified with it`,
    );
  }
  const notesRef = pick('notesRef') ?? DEFAULT_NOTES_REF;
  if (!/^refs\/notes\/[^\s]+$/.test(notesRef))
    throw new SettingError(
      '--notes-ref',
      `--notes-ref "${notesRef}" is not a notes ref like ${DEFAULT_NOTES_REF}`,
    );
  const branch = pick('branch') ?? 'main';
  const maxFiles = pick('maxFiles');
  const maxPathDepth = pick('maxPathDepth');
  return {
    repo,
    ...(gitCredentials ? { gitCredentials } : {}),
    branch,
    endpoint: {
      ...endpoint,
      connectTimeoutMs: Math.min(endpoint.connectTimeoutMs, endpoint.sessionTimeoutMs),
    },
    mode: flags.once ? 'once' : 'watch',
    pollIntervalMs: parseDuration('--poll', pick('poll') ?? '30s'),
    gitTimeoutMs: parseGitTimeout(pick('gitTimeout')),
    ...(listen ? { listen } : {}),
    ...(webhookSecret ? { webhookSecret } : {}),
    ...(pick('cacheDir') === undefined ? { cacheDirIsDefault: true } : {}),
    cacheDir:
      pick('cacheDir') ??
      join(
        tmpdir(),
        'cairn-syncer-cache',
        // Named after the repository without its credentials: a token must not end up in a path.
        Buffer.from(`${withoutCredentials(repo)}#${branch}`)
          .toString('base64url')
          .slice(0, 80),
      ),
    notesRef,
    replicaId: pick('replicaId') ?? `${defaults.hostname}:${defaults.pid}`,
    treeLimits: {
      ...(maxFiles !== undefined ? { maxFiles: positiveInteger('--max-files', maxFiles) } : {}),
      ...(maxPathDepth !== undefined
        ? { maxPathDepth: positiveInteger('--max-path-depth', maxPathDepth) }
        : {}),
    },
  };
}

/**
 * `--git-timeout`: at least a second, for a server that answers slowly but answers; it bounds a
 * silence, not a transfer, so a first clone that takes minutes needs no more than the default.
 */
function parseGitTimeout(value: string | undefined): number {
  return value === undefined ? DEFAULT_GIT_TIMEOUT_MS : parseDuration('--git-timeout', value, 1000);
}

function positiveInteger(flag: string, value: string): number {
  if (/^[1-9][0-9]{0,8}$/.test(value)) return Number(value);
  throw new SettingError(flag, `${flag} "${value}" is not a whole number of at least 1`);
}

/**
 * The webhook secret: the file's content (one line; a final newline is not part of it), else the
 * value given. Nothing of the file is ever put in a message.
 */
function readWebhookSecret(file: string | undefined, value: string | undefined): string | undefined {
  if (file === undefined) return value;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SettingError(
      '--webhook-secret-file',
      `--webhook-secret-file ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give the path of a file holding the secret of the GitHub webhook`,
    );
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret.trim() === '')
    throw new SettingError(
      '--webhook-secret-file',
      `--webhook-secret-file ${file} is empty: write the secret of the GitHub webhook in it`,
    );
  if (/[\r\n]/.test(secret))
    throw new SettingError(
      '--webhook-secret-file',
      `--webhook-secret-file ${file} holds more than one line: a webhook secret is one line`,
    );
  return secret;
}

/** `[host:]port`, the form of --listen; throws SettingError naming the flag. */
export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:(.*):)?(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535)
    throw new SettingError('--listen', `--listen "${value}" is not [host:]port, e.g. 0.0.0.0:8080`);
  return { host: match[1] || '0.0.0.0', port };
}
