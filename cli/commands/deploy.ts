import { userInfo } from 'node:os';
import { type Command, Option } from 'commander';
import {
  type ControlAction,
  connectSession,
  controlRefusal,
  decodeServiceRecord,
  encodeDeploymentControlRecord,
  newestDeployments,
  readDeployLog,
  readDeploymentStatus,
  resolveDeployment,
  resolveZooKeeperEndpoint,
  steeringRefusal,
  type ZkSession,
  type ZooKeeperEndpoint,
} from '../../core/index.js';
import { formatDeploymentList, formatDeploymentStatus } from '../deploy/format-deployment.js';
import { endpointSettings } from '../endpoint-flags.js';
import { type CommandContext, EXIT_OK } from '../io.js';
import { UsageError } from '../usage-error.js';

interface ConnectionFlags {
  zk?: string;
  root?: string;
}

interface SteerFlags extends ConnectionFlags {
  deployment?: string;
  by?: string;
  reason?: string;
}

/**
 * `cairn deploy status|log|pause|resume|skip|abort|retry`: reads deployments, and records operators'
 * control actions (who, when, why) for the controller to apply. Without `<service> <env>` a command
 * acts on the one deployment in progress.
 */
export function registerDeploy(program: Command, { io, setExitCode }: CommandContext): void {
  const deploy = program
    .command('deploy')
    .description('show and steer deployments: status, log, pause, resume, skip, abort, retry');
  const connection = (command: Command) =>
    command
      .addOption(new Option('--zk <hosts>', 'ZooKeeper ensemble, host:port,...').env('CAIRN_ZK'))
      .addOption(new Option('--root <path>', 'root znode').env('CAIRN_ZK_ROOT'))
      .addOption(
        new Option('--zk-auth-file <file>', 'ZooKeeper credentials, one user:password a line').env(
          'CAIRN_ZK_AUTH_FILE',
        ),
      );
  const withSession = async <T>(
    flags: ConnectionFlags,
    run: (session: ZkSession, endpoint: ZooKeeperEndpoint) => Promise<T>,
  ) => {
    const endpoint = resolveZooKeeperEndpoint(endpointSettings(flags), io.env);
    const session = await connectSession(endpoint);
    try {
      return await run(session, endpoint);
    } finally {
      await session.close();
    }
  };
  const checkFormat = (format: string) => {
    if (format !== 'text' && format !== 'json')
      throw new UsageError(`unknown --format "${format}": use text or json`);
  };

  connection(
    deploy
      .command('status')
      .description('the newest deployment of every environment, or one deployment in full')
      .argument('[service]')
      .argument('[env]')
      .option('--deployment <id>', 'a deployment other than the newest, e.g. d-0000000003')
      .option('--format <format>', 'text or json', 'text'),
  ).action(
    async (service: string | undefined, env: string | undefined, flags: SteerFlags & { format: string }) => {
      checkFormat(flags.format);
      await withSession(flags, async (session, { layout }) => {
        if (service === undefined) {
          const list = await newestDeployments(session, layout);
          io.stdout(
            flags.format === 'json' ? `${JSON.stringify(list, null, 2)}\n` : formatDeploymentList(list),
          );
          return;
        }
        const ref = await resolveDeployment(session, layout, {
          service,
          env,
          ...(flags.deployment ? { id: flags.deployment } : {}),
        });
        const status = await readDeploymentStatus(session, layout, ref);
        io.stdout(
          flags.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatDeploymentStatus(status),
        );
      });
      setExitCode(EXIT_OK);
    },
  );

  connection(
    deploy
      .command('log')
      .description('the tail of a host’s deploy output (every host’s without a host)')
      .argument('<service>')
      .argument('<env>')
      .argument('[host]')
      .option('--deployment <id>', 'a deployment other than the newest')
      .option('--format <format>', 'text or json', 'text'),
  ).action(
    async (
      service: string,
      env: string,
      host: string | undefined,
      flags: SteerFlags & { format: string },
    ) => {
      checkFormat(flags.format);
      await withSession(flags, async (session, { layout }) => {
        const ref = await resolveDeployment(session, layout, {
          service,
          env,
          ...(flags.deployment ? { id: flags.deployment } : {}),
        });
        const hosts = host ? [host] : Object.keys((await readDeploymentStatus(session, layout, ref)).tasks);
        const logs: Record<string, string> = {};
        for (const h of hosts) logs[h] = (await readDeployLog(session, layout, ref, h)).toString('utf8');
        if (flags.format === 'json') io.stdout(`${JSON.stringify({ ...ref, logs }, null, 2)}\n`);
        else if (host) io.stdout(logs[host] ?? '');
        else
          for (const [h, text] of Object.entries(logs))
            io.stdout(`==> ${h} <==\n${text}${text.endsWith('\n') || !text ? '' : '\n'}`);
      });
    },
  );

  const steer = (action: ControlAction, description: string, needsHost = false) => {
    const command = deploy.command(action).description(description);
    if (needsHost) command.argument('<host>');
    connection(
      command
        .argument('[service]')
        .argument('[env]')
        .option('--deployment <id>', 'a deployment other than the newest')
        .addOption(
          new Option('--by <who>', 'who acts, recorded with the action (default: the login name)').env(
            'CAIRN_USER',
          ),
        )
        .option('--reason <why>', 'why, recorded with the action'),
    ).action(async (...args: unknown[]) => {
      const flags = args[needsHost ? 3 : 2] as SteerFlags;
      const [host, service, env] = needsHost
        ? (args.slice(0, 3) as [string, string | undefined, string | undefined])
        : [undefined, ...(args.slice(0, 2) as [string | undefined, string | undefined])];
      const by = flags.by ?? io.env.CAIRN_USER ?? userInfo().username;
      await withSession(flags, async (session, { layout }) => {
        const ref = await resolveDeployment(session, layout, {
          ...(service !== undefined ? { service } : {}),
          ...(env !== undefined ? { env } : {}),
          ...(flags.deployment ? { id: flags.deployment } : {}),
        });
        const { deployment } = await readDeploymentStatus(session, layout, ref);
        if (host !== undefined && !deployment.plan.steps.some((step) => step.hosts.includes(host)))
          throw new UsageError(`${host} is not a host of ${ref.service} ${ref.env}'s deployment ${ref.id}`);
        // Checked here, where the action is recorded, and again by the controller where it is applied.
        const serviceNode = await session.getIfExists(layout.service(ref.service));
        const steering = serviceNode
          ? decodeServiceRecord(serviceNode.data, layout.service(ref.service)).steering
          : undefined;
        const forbidden = steeringRefusal(steering, ref.env, action, by);
        if (forbidden)
          throw new UsageError(
            `${ref.service}/${ref.env} ${ref.id}: ${forbidden.message}; ask one of them, or change policy.yaml (--by names who acts)`,
          );
        const refusal = controlRefusal(action, deployment.state);
        if (refusal)
          throw new UsageError(`${ref.service}/${ref.env} ${ref.id} is ${deployment.state}: ${refusal}`);
        const created = await session.create(
          layout.deploymentControlPrefix(ref.service, ref.env, ref.id),
          encodeDeploymentControlRecord({
            action,
            ...(host !== undefined ? { host } : {}),
            by,
            at: new Date().toISOString(),
            ...(flags.reason ? { reason: flags.reason } : {}),
          }),
          'persistent-sequential',
        );
        io.stdout(
          `${action}${host ? ` ${host}` : ''} recorded for ${ref.service}/${ref.env} ${ref.id} by ${by} (${created.slice(created.lastIndexOf('/') + 1)}); the controller applies it next\n`,
        );
      });
    });
  };
  steer('pause', 'pause: tasks in flight finish, no new step starts');
  steer('resume', 'resume a paused deployment (after a budget halt, the failures so far are accepted)');
  steer(
    'skip',
    'skip a host: not started yet, or failed (then it no longer counts against the budget)',
    true,
  );
  steer('abort', 'abort: tasks in flight finish, none starts again');
  steer('retry', 'run failed and lost hosts again, and continue the deployment');
}
