import { InvalidSettingsError } from './errors.js';
import { DEFAULT_NOTES_REF } from './names.js';

/** What an operator can tune about the bot. Probot's own variables (APP_ID, …) are Probot's. */
export interface BotSettings {
  /** Git ref that holds approval records as notes on merge commits. */
  readonly notesRef: string;
  /** Blobs fetched at once while reading a tree; GitHub's secondary rate limit punishes bursts. */
  readonly blobConcurrency: number;
  /** Bytes of file content kept in memory between events, so unchanged files are fetched once. */
  readonly blobCacheBytes: number;
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
  return {
    notesRef,
    blobConcurrency: integer(env, 'CAIRN_BLOB_CONCURRENCY', DEFAULT_BOT_SETTINGS.blobConcurrency, 1, 64),
    blobCacheBytes:
      integer(env, 'CAIRN_BLOB_CACHE_MB', DEFAULT_BOT_SETTINGS.blobCacheBytes / 1024 / 1024, 0, 65536) *
      1024 *
      1024,
  };
}

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
