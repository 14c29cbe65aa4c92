import type { Command } from 'commander';
import { run } from 'probot';
import { cairnApp } from '../../bot/index.js';
import { type CommandContext, EXIT_OK } from '../io.js';
import { createLogger } from '../logger.js';

/**
 * `cairn bot`: the GitHub App, with Probot's usual settings (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH,
 * WEBHOOK_SECRET, PORT, from the environment or `.env`). Without them Probot serves its set-up page,
 * which registers the app from bot/app.yml; see bot/README.md.
 */
export function registerBot(program: Command, { io, setExitCode, stopSignal }: CommandContext): void {
  program
    .command('bot')
    .description(
      'run the GitHub App that checks pull requests, plans and records approvals (see bot/README.md)',
    )
    .action(async () => {
      // Cairn's logger, so the bot's lines look like every other command's; Probot's own LOG_LEVEL
      // and LOG_FORMAT still apply when CAIRN_LOG_LEVEL and CAIRN_LOG_FORMAT are not set.
      const log = createLogger(io, 'bot', {
        fallback: { level: io.env.LOG_LEVEL, format: io.env.LOG_FORMAT },
      });
      const server = await run(cairnApp, { env: io.env, log });
      await stopSignal();
      await server.stop();
      setExitCode(EXIT_OK);
    });
}
