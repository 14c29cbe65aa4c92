import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import type { Logger, Probot } from 'probot';
import { createCairnApp } from './app.js';
import { startAppliedChecks } from './applied/start-applied-checks.js';
import { readAppCredentials } from './credentials.js';
import { openBotZooKeeper, startGitHubDeployments } from './deployments/start-deployments.js';
import { InvalidSettingsError } from './errors.js';
import { BotMetrics } from './metrics.js';
import { startProbotServer } from './probot-server.js';
import { readAppManifest } from './registration/app-manifest.js';
import { startRegistration } from './registration/registration-server.js';
import { readBotSettings } from './settings.js';

export interface BotStartOptions {
  /** The process environment; a `.env` file in `cwd` adds to it (and wins, as in Probot). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** bot/app.yml inside the installed package: the registration reads it from there, never from `cwd`. */
  readonly manifestPath: string;
  /** Where the app, its registration page and its applied checks log. */
  readonly log: Logger;
  /** Told the app's secrets as they are read (from `.env` or a key file), so no log line shows them. */
  readonly onSecret?: (value: string) => void;
}

export interface RunningBot {
  /** `app` serves webhooks; `registration` serves the page that registers the app on GitHub. */
  readonly mode: 'app' | 'registration';
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts the bot the way `cairn bot` runs it. Every setting is checked before anything listens, so a
 * mistake ends the start with a message naming the variable (InvalidSettingsError) instead of a stack
 * trace. With the app's credentials it runs the app in Probot's server; with none it serves the
 * registration page, which registers the app from `manifestPath` and writes the credentials to
 * `cwd/.env`.
 */
export async function startBot(options: BotStartOptions): Promise<RunningBot> {
  const envFile = join(options.cwd, '.env');
  const env = { ...options.env, ...readEnvFile(envFile) };
  const settings = readBotSettings(env);
  for (const name of ['PRIVATE_KEY', 'WEBHOOK_SECRET', 'GITHUB_CLIENT_SECRET']) {
    const value = env[name];
    if (value) options.onSecret?.(value);
  }
  const credentials = readAppCredentials(env, options.cwd);
  if (credentials) {
    options.onSecret?.(credentials.privateKey);
    options.onSecret?.(credentials.webhookSecret);
  }
  if (!credentials) {
    if (env.NODE_ENV === 'production') {
      throw new InvalidSettingsError(
        "APP_ID and a private key (PRIVATE_KEY or PRIVATE_KEY_PATH) are not set, and NODE_ENV=production serves no registration page: set them from the app's settings page, or register the app first without NODE_ENV=production",
      );
    }
    const manifest = readAppManifest(options.manifestPath);
    const registration = await listening(env, () =>
      startRegistration({ manifest, manifestPath: options.manifestPath, env, envFile, log: options.log }),
    );
    return { mode: 'registration', url: registration.url, stop: () => registration.close() };
  }
  const metrics = new BotMetrics();
  // The bot's one session to the syncer's ZooKeeper: the applied checks, the deployments' mirror and
  // the comments' control actions share it.
  const zookeeper = settings.appliedChecks
    ? openBotZooKeeper(settings.appliedChecks, options.log)
    : undefined;
  const cairn = createCairnApp({ settings, metrics, ...(zookeeper ? { zookeeper } : {}) });
  let app: Probot | undefined;
  let server: Awaited<ReturnType<typeof startProbotServer>>;
  try {
    server = await listening(env, () =>
      startProbotServer(
        (probot, appOptions) => {
          app = probot;
          return cairn(probot, appOptions);
        },
        {
          env: {
            ...env,
            APP_ID: String(credentials.appId),
            PRIVATE_KEY: credentials.privateKey,
            WEBHOOK_SECRET: credentials.webhookSecret,
          },
          log: options.log,
          onRefused: (reason) => metrics.refused.inc({ reason }),
        },
      ),
    );
  } catch (error) {
    await zookeeper?.keeper.close();
    throw error;
  }
  // Long-lived work that no webhook starts belongs to the server that keeps running, not to the app
  // function (which Probot's serverless runners call per event): started once the server listens.
  const applied = app ? startAppliedChecks(app, settings, metrics, zookeeper?.keeper) : undefined;
  const deployments =
    app && zookeeper && settings.appliedChecks
      ? startGitHubDeployments(app, settings.appliedChecks, zookeeper, metrics)
      : undefined;
  return {
    mode: 'app',
    url: `http://${server.host}:${server.port}`,
    stop: async () => {
      await applied?.close();
      await deployments?.close();
      await server.stop();
      await zookeeper?.keeper.close();
    },
  };
}

/** Starts a server; a port someone else holds is the operator's to change, said so by name. */
async function listening<T>(
  env: Readonly<Record<string, string | undefined>>,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code !== 'EADDRINUSE') throw error;
    throw new InvalidSettingsError(
      `PORT=${env.PORT || 3000}: another process listens on that port${env.HOST ? ` of ${env.HOST}` : ''}; stop it or set PORT to a free one`,
    );
  }
}

/** `.env` as Probot reads it (Node's parseEnv); a file that is not there is no settings at all. */
function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  try {
    return parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new InvalidSettingsError(`cannot read ${path} (${(error as Error).message}): fix or remove it`);
  }
}
