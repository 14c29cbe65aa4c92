import { type Command, Option } from 'commander';
import { connectSession, resolveZooKeeperEndpoint } from '../../core/index.js';
import { checkAcl, formatAclCheck } from '../acl/check-acl.js';
import {
  formatIssued,
  HOW_TO_PASS,
  type IssuedCredentials,
  writeCredentialFiles,
} from '../acl/role-credentials.js';
import { addHosts, setUpAcl } from '../acl/set-up-acl.js';
import { type EndpointFlags, endpointSettings } from '../endpoint-flags.js';
import { type CommandContext, EXIT_FINDINGS, EXIT_OK } from '../io.js';
import { UsageError } from '../usage-error.js';

/** `cairn acl init|add-host|check`: ZooKeeper access control by role (see syncer/README, Security). */
export function registerAcl(program: Command, { io, setExitCode }: CommandContext): void {
  const acl = program
    .command('acl')
    .description('set up and check ZooKeeper access control: credentials per role, an ACL on every node');
  const endpointOptions = (command: Command, auth: boolean) => {
    command
      .addOption(new Option('--zk <hosts>', 'ZooKeeper ensemble, host:port,...').env('CAIRN_ZK'))
      .addOption(new Option('--root <path>', 'root znode').env('CAIRN_ZK_ROOT'));
    if (auth)
      command.addOption(
        new Option('--zk-auth-file <file>', 'ZooKeeper credentials, one user:password a line').env(
          'CAIRN_ZK_AUTH_FILE',
        ),
      );
    return command;
  };
  const handOut = async (issued: IssuedCredentials, outDir: string | undefined) => {
    if (outDir) {
      const files = await writeCredentialFiles(outDir, issued);
      io.stdout(
        `Credentials written, readable by you alone (0600):\n${files.map((f) => `  ${f}\n`).join('')}`,
      );
    } else {
      io.stdout(
        `Credentials to hand out (shown only now; keep them out of shell history and tickets):\n${formatIssued(issued)}`,
      );
    }
    io.stdout(`\n${HOW_TO_PASS}\n`);
  };

  endpointOptions(
    acl
      .command('init')
      .description(
        'put a root under access control: new credentials for every role, printed (or written with --out-dir)',
      )
      .option(
        '--host <host...>',
        'hosts to issue agent credentials for (more later with cairn acl add-host)',
        [],
      )
      .option(
        '--out-dir <dir>',
        'write one credentials file per role and host (mode 0600) instead of printing passwords',
      ),
    false,
  )
    .addHelpText(
      'after',
      '\nRun it once per root, before the syncer runs with credentials; a root used without access control until now has every node closed to its policy. Exit status: 0, 2 on failure (a root under access control already is refused).',
    )
    .action(async (flags: EndpointFlags & { host: string[]; outDir?: string }) => {
      const endpoint = resolveZooKeeperEndpoint(
        { ...flags, auth: '' },
        { ...io.env, CAIRN_ZK_AUTH: '', CAIRN_ZK_AUTH_FILE: '' },
      );
      const { issued, repaired } = await setUpAcl(endpoint, flags.host);
      io.stdout(
        `${endpoint.layout.root} at ${endpoint.connectString} is under access control${repaired > 0 ? ` (${repaired} existing nodes closed to their policy)` : ''}.\n`,
      );
      await handOut(issued, flags.outDir);
      setExitCode(EXIT_OK);
    });

  endpointOptions(
    acl
      .command('add-host')
      .description(
        "issue a host's own agent credential (again: the old one stops working); needs the syncer's credentials",
      )
      .argument('<host...>', 'host names as the service tree lists them')
      .option(
        '--out-dir <dir>',
        "write agent-<host>.auth (with the agent role's line from cairn-agent.auth there) instead of printing",
      ),
    true,
  ).action(async (hosts: string[], flags: EndpointFlags & { outDir?: string }) => {
    const endpoint = resolveZooKeeperEndpoint(endpointSettings(flags), io.env);
    const session = await connectSession(endpoint);
    try {
      await handOut(await addHosts(session, endpoint, hosts), flags.outDir);
      setExitCode(EXIT_OK);
    } finally {
      await session.close();
    }
  });

  endpointOptions(
    acl
      .command('check')
      .description('report every node whose ACL differs from the access policy')
      .option('--format <format>', 'text or json', 'text'),
    true,
  )
    .addHelpText(
      'after',
      '\nExit status: 0 when every node has its policy ACL, 1 when some differ or the root is not under access control, 2 on failure.',
    )
    .action(async (flags: EndpointFlags & { format: string }) => {
      if (flags.format !== 'text' && flags.format !== 'json')
        throw new UsageError(`unknown --format "${flags.format}": use text or json`);
      const endpoint = resolveZooKeeperEndpoint(endpointSettings(flags), io.env);
      const session = await connectSession(endpoint);
      try {
        const report = await checkAcl(session, endpoint.layout);
        io.stdout(flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatAclCheck(report));
        setExitCode(report.controlled && report.drift.length === 0 ? EXIT_OK : EXIT_FINDINGS);
      } finally {
        await session.close();
      }
    });
}
