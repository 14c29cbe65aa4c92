import { join } from 'node:path';
import type { Command } from 'commander';
import { ENVIRONMENT, environmentHelp } from '../environment.js';
import { type CommandContext, EXIT_OK } from '../io.js';
import { createLogger } from '../logger.js';
import { packageRoot } from '../package-root.js';

/**
 * `cairn bot`: the GitHub App, with Probot's usual settings (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH,
 * WEBHOOK_SECRET, PORT, from the environment or `.env` in the working directory), each checked before
 * it listens. Without APP_ID and a key it serves the page that registers the app from the package's
 * bot/app.yml, wherever it is started from; see bot/README.md.
 */
export function registerBot(
  program: Command,
  { io, setExitCode, stopSignal, secrets }: CommandContext,
): void {
  program
    .command('bot')
    .description(
      'run the GitHub App that checks pull requests, plans and records approvals, or register it on GitHub (see bot/README.md)',
    )
    .addHelpText(
      'after',
      environmentHelp(
        'Environment variables (also read from .env in the working directory, which wins):',
        ENVIRONMENT.filter((v) => v.commands.includes('bot')).map((v) => v.name),
      ),
    )
    .action(async () => {
      // Cairn's logger, so the bot's lines look like every other command's; Probot's own LOG_LEVEL
      // and LOG_FORMAT still apply when CAIRN_LOG_LEVEL and CAIRN_LOG_FORMAT are not set.
      const log = createLogger(io, 'bot', {
        fallback: { level: io.env.LOG_LEVEL, format: io.env.LOG_FORMAT },
      });
      // Loaded here, not above: Probot is a large part of what every other command would load at start.
      const { startBot } = await import('../../bot/index.js');
      const bot = await startBot({
        env: io.env,
        cwd: io.cwd,
        manifestPath: join(packageRoot(), 'bot', 'app.yml'),
        log,
        onSecret: (value) => secrets.add(value),
      });
      await stopSignal();
      await bot.stop();
      setExitCode(EXIT_OK);
    });
}
