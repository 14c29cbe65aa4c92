import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { run } from 'probot';
import { createCairnApp } from './app.js';
import { readAppCredentials } from './credentials.js';
import { InvalidSettingsError } from './errors.js';
import { readBotSettings } from './settings.js';

export interface BotStartOptions {
  /** The process environment; a `.env` file in `cwd` adds to it (and wins, as in Probot). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export interface RunningBot {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts the bot the way `cairn bot` runs it. Every setting is checked before anything listens, so a
 * mistake ends the start with a message naming the variable (InvalidSettingsError) instead of a stack
 * trace. Without credentials Probot serves its set-up page.
 */
export async function startBot(options: BotStartOptions): Promise<RunningBot> {
  const env = { ...options.env, ...readEnvFile(join(options.cwd, '.env')) };
  const settings = readBotSettings(env);
  const credentials = readAppCredentials(env, options.cwd);
  const server = await listening(env, () =>
    run(createCairnApp({ settings }), {
      env: credentials
        ? {
            ...env,
            APP_ID: String(credentials.appId),
            PRIVATE_KEY: credentials.privateKey,
            WEBHOOK_SECRET: credentials.webhookSecret,
          }
        : env,
    }),
  );
  return { url: `http://${server.host}:${server.port}`, stop: () => server.stop() };
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
