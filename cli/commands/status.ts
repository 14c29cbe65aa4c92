import { type Command, Option } from 'commander';
import { connectSession, readStatus, resolveZooKeeperEndpoint, statusHasFindings } from '../../core/index.js';
import { endpointSettings } from '../endpoint-flags.js';
import { type CommandContext, EXIT_FINDINGS, EXIT_OK } from '../io.js';
import { formatStatus } from '../status/format-status.js';
import { UsageError } from '../usage-error.js';

/** `cairn status`: which commit ZooKeeper holds, which syncer leads, which instances run what. */
export function registerStatus(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('status')
    .description('show the mirrored commit, the syncers, and which instances serve which commit')
    .addOption(new Option('--zk <hosts>', 'ZooKeeper ensemble, host:port,...').env('CAIRN_ZK'))
    .addOption(new Option('--root <path>', 'root znode').env('CAIRN_ZK_ROOT'))
    .addOption(
      new Option('--zk-auth-file <file>', 'ZooKeeper credentials, one user:password a line').env(
        'CAIRN_ZK_AUTH_FILE',
      ),
    )
    .option('--format <format>', 'text or json', 'text')
    .addHelpText(
      'after',
      '\nExit status: 0 when every instance and every host with an agent serves what ZooKeeper holds, 1 when some are behind or rejected a commit, when the syncer refused a commit, or when nothing is mirrored under the root; 2 on failure.',
    )
    .action(async (flags: { zk?: string; root?: string; format: string }) => {
      if (flags.format !== 'text' && flags.format !== 'json')
        throw new UsageError(`unknown --format "${flags.format}": use text or json`);
      const endpoint = resolveZooKeeperEndpoint(endpointSettings(flags), io.env);
      const session = await connectSession(endpoint);
      try {
        const status = await readStatus(session, endpoint.layout);
        io.stdout(flags.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
        setExitCode(statusHasFindings(status) ? EXIT_FINDINGS : EXIT_OK);
      } finally {
        await session.close();
      }
    });
}
