import { type Command, Option } from 'commander';
import { connectSession, readHistory, resolveZooKeeperEndpoint } from '../../core/index.js';
import { endpointSettings } from '../endpoint-flags.js';
import { formatHistory } from '../history/format-history.js';
import { type CommandContext, EXIT_FINDINGS, EXIT_OK } from '../io.js';
import { UsageError } from '../usage-error.js';

/** `cairn history`: the mirrored commits, newest first, who approved each, and how to revert it. */
export function registerHistory(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('history')
    .description(
      'list the mirrored commits, newest first: who approved each, and the git revert that undoes it',
    )
    .addOption(new Option('--zk <hosts>', 'ZooKeeper ensemble, host:port,...').env('CAIRN_ZK'))
    .addOption(new Option('--root <path>', 'root znode').env('CAIRN_ZK_ROOT'))
    .addOption(
      new Option('--zk-auth-file <file>', 'ZooKeeper credentials, one user:password a line').env(
        'CAIRN_ZK_AUTH_FILE',
      ),
    )
    .option('--limit <n>', 'how many commits, newest first', '20')
    .option('--format <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      '\nA revert is a commit like any other: push it as a pull request and it takes the same path.\nFor a merge commit add -m 1 to the git revert line.\nExit status: 0, 1 when nothing is mirrored under the root, 2 on failure.',
    )
    .action(async (flags: { zk?: string; root?: string; limit: string; format: string }) => {
      if (flags.format !== 'text' && flags.format !== 'json')
        throw new UsageError(`unknown --format "${flags.format}": use text or json`);
      const limit = Number(flags.limit);
      if (!Number.isSafeInteger(limit) || limit < 1)
        throw new UsageError(`--limit ${flags.limit} is not a positive whole number`);
      const endpoint = resolveZooKeeperEndpoint(endpointSettings(flags), io.env);
      const session = await connectSession(endpoint);
      try {
        const entries = await readHistory(session, endpoint.layout, limit);
        io.stdout(flags.format === 'json' ? `${JSON.stringify(entries, null, 2)}\n` : formatHistory(entries));
        if (entries.length === 0 && flags.format === 'text')
          io.stderr(
            `cairn: nothing is mirrored under ${endpoint.layout.root}: is the syncer running, and is --root right?\n`,
          );
        setExitCode(entries.length === 0 ? EXIT_FINDINGS : EXIT_OK);
      } finally {
        await session.close();
      }
    });
}
