import type { Command } from 'commander';
import { startBot } from '../../bot/index.js';
import { type CommandContext, EXIT_OK } from '../io.js';

/**
 * `cairn bot`: the GitHub App, with Probot's usual settings (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH,
 * WEBHOOK_SECRET, PORT, from the environment or `.env`), each checked before it listens. Without them
 * Probot serves its set-up page, which registers the app from bot/app.yml; see bot/README.md.
 */
export function registerBot(program: Command, { io, setExitCode, stopSignal }: CommandContext): void {
  program
    .command('bot')
    .description(
      'run the GitHub App that checks pull requests, plans and records approvals (see bot/README.md)',
    )
    .action(async () => {
      const bot = await startBot({ env: io.env, cwd: io.cwd });
      await stopSignal();
      await bot.stop();
      setExitCode(EXIT_OK);
    });
}
