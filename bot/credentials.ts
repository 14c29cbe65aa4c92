import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidSettingsError } from './errors.js';

/** What the app authenticates and verifies deliveries with, checked before anything listens. */
export interface AppCredentials {
  readonly appId: number;
  /** The key as a PEM block with real newlines, whatever form it was given in. */
  readonly privateKey: string;
  readonly webhookSecret: string;
}

type Environment = Readonly<Record<string, string | undefined>>;

const KEY_SHAPE =
  'a valid key is the .pem file GitHub generated on the app\'s settings page ("Private keys → Generate a private key"): ' +
  '"-----BEGIN RSA PRIVATE KEY-----", lines of base64, "-----END RSA PRIVATE KEY-----"';

/**
 * The app's credentials from Probot's variables, read as Probot reads them (PRIVATE_KEY as a PEM
 * block, with `\n` for newlines or base64-encoded; else PRIVATE_KEY_PATH; else the one `*.pem` file in
 * `cwd`), but checked whole: a key must parse as an RSA private key, APP_ID must be a number and
 * WEBHOOK_SECRET must be set. Probot would print a stack trace for a bad key and serve its set-up
 * page, and would accept deliveries signed with "development" without a secret.
 *
 * Returns undefined when none of APP_ID and a key is given: the app is not registered yet.
 */
export function readAppCredentials(env: Environment, cwd: string): AppCredentials | undefined {
  const key = readPrivateKey(env, cwd);
  const appIdText = env.APP_ID?.trim() ?? '';
  if (key === undefined && appIdText === '') return undefined;
  if (key === undefined) {
    throw new InvalidSettingsError(
      `APP_ID is set but no private key is: set PRIVATE_KEY_PATH to the app's .pem file, or PRIVATE_KEY to its contents (${KEY_SHAPE})`,
    );
  }
  if (appIdText === '') {
    throw new InvalidSettingsError(
      `a private key is set (${key.source}) but APP_ID is not: set APP_ID to the number shown as "App ID" on the app's settings page`,
    );
  }
  const appId = Number(appIdText);
  if (!Number.isSafeInteger(appId) || appId <= 0) {
    throw new InvalidSettingsError(
      `APP_ID="${appIdText}" is not an app's ID: set it to the number shown as "App ID" on the app's settings page (not the client ID)`,
    );
  }
  const webhookSecret = env.WEBHOOK_SECRET ?? '';
  if (webhookSecret === '') {
    throw new InvalidSettingsError(
      'WEBHOOK_SECRET is not set: set it to the "Webhook secret" of the app\'s settings page; without it every delivery would be refused, or accepted from anyone who knows the default',
    );
  }
  return { appId, privateKey: key.pem, webhookSecret };
}

interface FoundKey {
  readonly pem: string;
  /** Where it came from, for messages: `PRIVATE_KEY`, `PRIVATE_KEY_PATH=…`, a file name. */
  readonly source: string;
}

function readPrivateKey(env: Environment, cwd: string): FoundKey | undefined {
  const inline = env.PRIVATE_KEY?.trim();
  if (inline) return checked(fromInline(inline), 'PRIVATE_KEY', 'PRIVATE_KEY');
  const path = env.PRIVATE_KEY_PATH?.trim();
  if (path) {
    const file = resolve(cwd, path);
    if (!existsSync(file)) {
      throw new InvalidSettingsError(
        `PRIVATE_KEY_PATH="${path}": there is no file ${file}; set it to the .pem file GitHub generated for the app`,
      );
    }
    return checked(readFileSync(file, 'utf8'), `PRIVATE_KEY_PATH=${path}`, `PRIVATE_KEY_PATH (${file})`);
  }
  const pemFiles = readdirSync(cwd).filter((name) => name.endsWith('.pem'));
  if (pemFiles.length > 1) {
    throw new InvalidSettingsError(
      `${pemFiles.join(', ')} in ${cwd}: more than one key file; set PRIVATE_KEY_PATH to the app's`,
    );
  }
  const [only] = pemFiles;
  if (only === undefined) return undefined;
  return checked(readFileSync(resolve(cwd, only), 'utf8'), only, `${only} in ${cwd}`);
}

/** PRIVATE_KEY as people paste it: base64 of the file, or the file with `\n` for its newlines. */
function fromInline(value: string): string {
  const decoded = /^[A-Za-z0-9+/=\s]+$/.test(value) ? Buffer.from(value, 'base64').toString('utf8') : value;
  const text = decoded.includes('-----BEGIN') ? decoded : value;
  return text.replace(/\\n/g, '\n');
}

function checked(text: string, source: string, where: string): FoundKey {
  const pem = text.trim();
  if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new InvalidSettingsError(`${where} is not a private key: ${KEY_SHAPE}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem.includes('\n') ? pem : rewrap(pem));
  } catch (error) {
    throw new InvalidSettingsError(
      `${where} does not hold a readable private key (${(error as Error).message}): copy the whole .pem file again, or generate a new key; ${KEY_SHAPE}`,
    );
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new InvalidSettingsError(
      `${where} is an ${key.asymmetricKeyType?.toUpperCase() ?? 'unknown'} key, and GitHub App keys are RSA: ${KEY_SHAPE}`,
    );
  }
  return { pem: `${key.export({ type: 'pkcs1', format: 'pem' }).toString().trim()}\n`, source };
}

/** A PEM block pasted on one line (newlines turned into spaces): header, body, footer again. */
function rewrap(pem: string): string {
  const match = /^(-----BEGIN [A-Z ]+-----)\s*(.*?)\s*(-----END [A-Z ]+-----)$/s.exec(pem);
  if (!match) return pem;
  const [, begin, body, end] = match as unknown as [string, string, string, string];
  return `${begin}\n${body.replace(/\s+/g, '\n')}\n${end}\n`;
}
