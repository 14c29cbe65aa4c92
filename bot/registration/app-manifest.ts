import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { InvalidSettingsError } from '../errors.js';

/**
 * The app's registration manifest (bot/app.yml): what GitHub shows when someone registers the app
 * from it. https://docs.github.com/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
 */
export interface AppManifest {
  readonly name: string;
  readonly description?: string;
  readonly url: string;
  readonly public?: boolean;
  readonly default_events: readonly string[];
  readonly default_permissions: Readonly<Record<string, string>>;
  readonly [field: string]: unknown;
}

/**
 * Reads bot/app.yml from where the package keeps it. The path is the caller's to find (the command
 * line resolves it inside the installed package), never the working directory: an app registered
 * without this file would have no permissions and receive no events.
 */
export function readAppManifest(path: string): AppManifest {
  let manifest: unknown;
  try {
    manifest = parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new InvalidSettingsError(
      `cannot read the app's manifest ${path} (${(error as Error).message}): reinstall Cairn, the file is part of its package`,
    );
  }
  const fields = manifest as Partial<AppManifest> | null;
  const problem =
    typeof fields !== 'object' || fields === null
      ? 'it is not a mapping'
      : typeof fields.name !== 'string' || fields.name === ''
        ? '"name" is missing'
        : typeof fields.url !== 'string'
          ? '"url" is missing'
          : !Array.isArray(fields.default_events) || fields.default_events.length === 0
            ? '"default_events" lists no event'
            : typeof fields.default_permissions !== 'object' ||
                fields.default_permissions === null ||
                Object.keys(fields.default_permissions).length === 0
              ? '"default_permissions" grants nothing'
              : undefined;
  if (problem) {
    throw new InvalidSettingsError(`the app's manifest ${path} is not one: ${problem}; restore bot/app.yml`);
  }
  return manifest as AppManifest;
}

/** Where this installation of the bot is reached, as the registration needs to tell GitHub. */
export interface RegistrationUrls {
  /** The URL the browser used to reach the bot, e.g. `http://localhost:3000`. */
  readonly baseUrl: string;
  /** Where GitHub delivers webhooks: a smee.io channel in development, else the bot itself. */
  readonly webhookUrl: string;
  /** Where GitHub sends the browser back with the registration code. */
  readonly redirectUrl: string;
}

/** The manifest as GitHub's "register from a manifest" form takes it, pointed at this bot. */
export function manifestForRegistration(manifest: AppManifest, urls: RegistrationUrls): string {
  return JSON.stringify({
    ...manifest,
    hook_attributes: { url: urls.webhookUrl },
    redirect_url: urls.redirectUrl,
  });
}
