import { readFileSync } from 'node:fs';
import { SettingError } from '../duration.js';
import type { ZkAuth } from './zk-client.js';

const CREDENTIALS = /^[^:\s]+:\S+$/;

/**
 * Digest credentials as a session presents them, with the `user:password` kept out of sight: not
 * enumerable, so neither JSON (a log line) nor `util.inspect` (a stack dump) ever shows it.
 */
export function digestCredentials(credentials: string): ZkAuth {
  const auth = { scheme: 'digest' as const } as ZkAuth;
  Object.defineProperty(auth, 'credentials', { value: credentials, enumerable: false });
  return auth;
}

/** The user of `user:password`: what may be shown of credentials. */
export function credentialsUser(credentials: string): string {
  return credentials.slice(0, credentials.indexOf(':'));
}

/**
 * `user:password[,user:password…]` (CAIRN_ZK_AUTH, the SDK's `auth`): an agent presents two, its
 * role's and its host's. A malformed entry is named by its position, never echoed.
 */
export function parseCredentialsList(text: string, setting: string): ZkAuth[] {
  const entries = text.split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    if (!CREDENTIALS.test(entry))
      throw new SettingError(
        setting,
        `${setting}: credentials ${index + 1} of ${entries.length} do not read user:password (digest)`,
      );
  });
  return entries.map(digestCredentials);
}

/**
 * A credentials file (`--zk-auth-file`, CAIRN_ZK_AUTH_FILE): one `user:password` per line, `#`
 * comments and blank lines ignored — what `cairn acl init` writes for each role and host, so that no
 * password need appear in argv or in the environment.
 */
export function readCredentialsFile(file: string, setting: string): ZkAuth[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SettingError(
      setting,
      `${setting}: cannot read the credentials file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): give the file cairn acl init wrote`,
    );
  }
  const auth: ZkAuth[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (!CREDENTIALS.test(line))
      throw new SettingError(
        setting,
        `${setting}: line ${index + 1} of ${file} does not read user:password (digest)`,
      );
    auth.push(digestCredentials(line));
  });
  if (auth.length === 0)
    throw new SettingError(setting, `${setting}: ${file} holds no credentials (lines of user:password)`);
  return auth;
}
