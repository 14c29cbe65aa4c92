import {
  parseDuration,
  resolveZooKeeperEndpoint,
  SettingError,
  ZOOKEEPER_ENV,
  type ZooKeeperEndpoint,
} from '../core/index.js';
import { InvalidSettingsError } from './errors.js';
import type { RepoCoordinates } from './github.js';
import { DEFAULT_NOTES_REF } from './names.js';

/** Where the "cairn / applied" checks come from and go to; absent, the bot posts none. */
export interface AppliedChecksSettings {
  /** The ZooKeeper the syncer writes to (CAIRN_ZK, CAIRN_ZK_ROOT and the CAIRN_ZK_* timeouts). */
  readonly endpoint: ZooKeeperEndpoint;
  /** The repository the syncer mirrors (CAIRN_REPOSITORY): ZooKeeper does not say which it is. */
  readonly repository: RepoCoordinates;
  /** A check still waiting this long after its commit was mirrored times out (CAIRN_APPLIED_DEADLINE). */
  readonly deadlineMs: number;
}

export const DEFAULT_APPLIED_DEADLINE_MS = 30 * 60_000;

/** What an operator can tune about the bot. Probot's own variables (APP_ID, …) are Probot's. */
export interface BotSettings {
  /** Git ref that holds approval records as notes on merge commits. */
  readonly notesRef: string;
  /** Blobs fetched at once while reading a tree; GitHub's secondary rate limit punishes bursts. */
  readonly blobConcurrency: number;
  /** Bytes of file content kept in memory between events, so unchanged files are fetched once. */
  readonly blobCacheBytes: number;
  /** Off unless CAIRN_ZK and CAIRN_REPOSITORY are set. */
  readonly appliedChecks?: AppliedChecksSettings;
}

export const DEFAULT_BOT_SETTINGS: BotSettings = {
  notesRef: DEFAULT_NOTES_REF,
  blobConcurrency: 8,
  blobCacheBytes: 64 * 1024 * 1024,
};

/** Reads the settings from the environment (CAIRN_*), with defaults; fails at start with the fix. */
export function readBotSettings(env: Readonly<Record<string, string | undefined>>): BotSettings {
  const notesRef = env.CAIRN_NOTES_REF || DEFAULT_BOT_SETTINGS.notesRef;
  if (!/^refs\/notes\/[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(notesRef) || notesRef.includes('..')) {
    throw new InvalidSettingsError(
      `CAIRN_NOTES_REF="${notesRef}" is not a notes ref: use a name like refs/notes/cairn-approvals`,
    );
  }
  const appliedChecks = readAppliedChecksSettings(env);
  return {
    notesRef,
    blobConcurrency: integer(env, 'CAIRN_BLOB_CONCURRENCY', DEFAULT_BOT_SETTINGS.blobConcurrency, 1, 64),
    blobCacheBytes:
      integer(env, 'CAIRN_BLOB_CACHE_MB', DEFAULT_BOT_SETTINGS.blobCacheBytes / 1024 / 1024, 0, 65536) *
      1024 *
      1024,
    ...(appliedChecks ? { appliedChecks } : {}),
  };
}

/** Both CAIRN_ZK and CAIRN_REPOSITORY, or neither: half of it is a mistake worth stopping for. */
function readAppliedChecksSettings(
  env: Readonly<Record<string, string | undefined>>,
): AppliedChecksSettings | undefined {
  const zk = env[ZOOKEEPER_ENV.zk] || undefined;
  const repository = env.CAIRN_REPOSITORY || undefined;
  if (!zk && !repository) return undefined;
  if (!zk)
    throw new InvalidSettingsError(
      `CAIRN_REPOSITORY is set but ${ZOOKEEPER_ENV.zk} is not: set ${ZOOKEEPER_ENV.zk} to the ZooKeeper ensemble the syncer writes to (host:port,…), or unset CAIRN_REPOSITORY to leave the "cairn / applied" checks off`,
    );
  if (!repository)
    throw new InvalidSettingsError(
      `${ZOOKEEPER_ENV.zk} is set but CAIRN_REPOSITORY is not: set it to the config repository the syncer mirrors, as owner/name`,
    );
  const [owner, repo, ...rest] = repository.split('/');
  if (!owner || !repo || rest.length > 0 || !/^[A-Za-z0-9-]+$/.test(owner) || !/^[A-Za-z0-9._-]+$/.test(repo))
    throw new InvalidSettingsError(
      `CAIRN_REPOSITORY="${repository}" is not a repository: use owner/name, e.g. northwind/platform-config`,
    );
  try {
    return {
      endpoint: resolveZooKeeperEndpoint({}, env),
      repository: { owner, repo },
      deadlineMs: env.CAIRN_APPLIED_DEADLINE
        ? parseDuration('CAIRN_APPLIED_DEADLINE', env.CAIRN_APPLIED_DEADLINE, 1000)
        : DEFAULT_APPLIED_DEADLINE_MS,
    };
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    // Core names the flags of the commands; the bot is configured by environment variables only.
    const variable = VARIABLE_OF_FLAG[error.setting];
    if (!variable) throw new InvalidSettingsError(error.message);
    const message = error.message.replaceAll(error.setting, variable);
    throw new InvalidSettingsError(message.includes(variable) ? message : `${variable}: ${message}`);
  }
}

const VARIABLE_OF_FLAG: Readonly<Record<string, string>> = {
  '--zk': ZOOKEEPER_ENV.zk,
  '--root': ZOOKEEPER_ENV.root,
  '--session-timeout': ZOOKEEPER_ENV.sessionTimeout,
  '--connect-timeout': ZOOKEEPER_ENV.connectTimeout,
  '--request-timeout': ZOOKEEPER_ENV.requestTimeout,
};

function integer(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidSettingsError(`${name}="${raw}" must be a whole number from ${min} to ${max}`);
  }
  return value;
}
