import type { Logger } from 'pino';
import {
  CoalescingTrigger,
  type DeploymentRecord,
  type DeploymentTaskRecord,
  decodeDeploymentRecord,
  decodeDeploymentTaskRecord,
  deploymentSeqOf,
  encodeDeploymentClaimRecord,
  encodeDeploymentTaskRecord,
  environmentKey,
  isTerminalDeployment,
  type SessionKeeper,
  type TaskFailure,
  taskTransition,
  WatchedRead,
  ZkError,
  type ZkLayout,
  type ZkSession,
  type ZkWatcher,
} from '../../core/index.js';
import { type CommandRunner, type CommandStep, type StepRun, succeeded } from '../run-command.js';
import type { AwaitConfig } from './config-outcome.js';
import type { DeployedVersions } from './deployed-versions.js';
import { LogStream } from './log-stream.js';

const DEFAULT_DEPLOY_TIMEOUT_S = 600;
const DEFAULT_HEALTH_TIMEOUT_S = 60;
/** Between two runs of a health check that did not pass yet. */
const HEALTH_RETRY_MS = 1000;

export interface DeployRunnerOptions {
  readonly keeper: SessionKeeper;
  readonly layout: ZkLayout;
  readonly service: string;
  readonly env: string;
  readonly host: string;
  readonly versions: DeployedVersions;
  /** Waits for this host's files of a snapshot a deployment assigned (see config-outcome.ts). */
  readonly awaitConfig: AwaitConfig;
  /** Where deploy commands run (the agent's prefix, or /). */
  readonly cwd: string;
  /** Who the deploy command and health check run as now (see commandUser); undefined: the agent's user. */
  readonly user: () => string | undefined;
  /** Runs the deploy command and the health check. */
  readonly runCommand: CommandRunner;
  readonly logger: Logger;
}

/** What the runner last read: the newest deployment of its environment and this host's task in it. */
interface TaskView {
  readonly deployment: DeploymentRecord;
  readonly task: DeploymentTaskRecord;
  readonly version: number;
}

/**
 * Runs this host's tasks of one service and environment: follows the environment's newest
 * deployment and this host's task in it; a pending task is claimed (an ephemeral claim, with the
 * task's version checked in the same transaction, so a task runs once and a dead agent's task is lost
 * as soon as its session ends), then the deploy command and the health check run, the output's tail
 * is streamed, and the result is recorded with the exit code and duration. A host that already runs
 * the version succeeds without running anything.
 */
export class DeployRunner {
  private readonly options: DeployRunnerOptions;
  private readonly read: WatchedRead<TaskView | undefined>;
  private readonly trigger: CoalescingTrigger;
  private latest: TaskView | undefined;
  private closed = false;

  constructor(options: DeployRunnerOptions) {
    this.options = options;
    const { service, env, host } = options;
    this.read = new WatchedRead({
      keeper: options.keeper,
      read: (session, watch) => this.readTask(session, watch),
      onRead: (view) => {
        this.latest = view;
        if (view?.task.state === 'pending') this.trigger.request();
      },
      onError: (error, failures) => {
        if (failures === 1)
          options.logger.warn(
            { service, env, err: error },
            `cannot read the deployments of ${service}/${env}; retrying`,
          );
      },
    });
    this.trigger = new CoalescingTrigger(() => this.runPending(), {
      onError: (error) =>
        options.logger.warn({ service, env, host, err: error }, 'a deploy task could not be run; retrying'),
    });
  }

  start(): void {
    this.read.start();
  }

  /** Resolves when no task runs. */
  async idle(): Promise<void> {
    await this.read.idle();
    await this.trigger.idle();
  }

  /** Stops following; a task in progress finishes first. */
  async close(): Promise<void> {
    this.closed = true;
    await this.read.close();
    await this.trigger.close();
  }

  private async readTask(session: ZkSession, watch: ZkWatcher | undefined): Promise<TaskView | undefined> {
    const { layout, service, env, host } = this.options;
    const folder = layout.deployments(service, env);
    const ids = (await session.childrenWatched(folder, watch))?.children ?? [];
    const newest = ids
      .filter((id) => deploymentSeqOf(id) !== undefined)
      .sort()
      .at(-1);
    if (!newest) return undefined;
    const deploymentPath = layout.deployment(service, env, newest);
    const deploymentNode = await session.getIfExists(deploymentPath);
    if (!deploymentNode) return undefined;
    const taskPath = layout.deploymentTask(service, env, newest, host);
    // Not reached yet: looked at again when the controller creates it.
    const taskNode = await session.getWatched(taskPath, watch);
    if (!taskNode) return undefined;
    return {
      deployment: decodeDeploymentRecord(deploymentNode.data, deploymentPath),
      task: decodeDeploymentTaskRecord(taskNode.data, taskPath),
      version: taskNode.stat.version,
    };
  }

  private async runPending(): Promise<void> {
    const view = this.latest;
    const session = this.options.keeper.session;
    if (this.closed || !view || view.task.state !== 'pending' || session?.state !== 'connected') return;
    if (isTerminalDeployment(view.deployment.state)) return;
    await new TaskRun(this.options, session, view).run();
    // What happened meanwhile (a retry, a newer deployment) is read again.
    this.read.request();
  }
}

/** One run of one task: claim, deploy, verify, report. */
class TaskRun {
  private readonly options: DeployRunnerOptions;
  private readonly session: ZkSession;
  private readonly deployment: DeploymentRecord;
  private task: DeploymentTaskRecord;
  private version: number;
  private readonly taskPath: string;
  private readonly claimPath: string;
  private readonly logger: Logger;

  constructor(options: DeployRunnerOptions, session: ZkSession, view: TaskView) {
    this.options = options;
    this.session = session;
    this.deployment = view.deployment;
    this.task = view.task;
    this.version = view.version;
    const { layout, service, env, host } = options;
    this.taskPath = layout.deploymentTask(service, env, view.deployment.id, host);
    this.claimPath = layout.deploymentClaim(service, env, view.deployment.id, host);
    this.logger = options.logger.child({
      service,
      env,
      deployment: view.deployment.id,
      version: view.deployment.release.version,
    });
  }

  async run(): Promise<void> {
    const { versions, service, env, host } = this.options;
    const key = environmentKey(service, env);
    const current = await versions.get(key);
    const previousVersion = current?.version ?? this.deployment.previousVersion;
    if (!(await this.claim(previousVersion))) return;
    const { release, config, configOnly } = this.deployment;
    const started = performance.now();
    const log = new LogStream({
      session: this.session,
      layout: this.options.layout,
      service,
      env,
      deployment: this.deployment.id,
      host,
    });
    const commandEnv = {
      CAIRN_SERVICE: service,
      CAIRN_ENV: env,
      CAIRN_HOST: host,
      CAIRN_VERSION: release.version,
      CAIRN_PREVIOUS_VERSION: previousVersion ?? '',
      CAIRN_DEPLOYMENT: this.deployment.id,
    };
    if (config) {
      // The controller assigned the snapshot with the task: the files come first, so that a new
      // version starts on the configuration it is released with.
      await this.step('running');
      const timeoutMs = (release.manifest.deploy.timeoutSeconds ?? DEFAULT_DEPLOY_TIMEOUT_S) * 1000;
      const outcome = await this.options.awaitConfig(config.target.manifest, timeoutMs);
      const commit = config.target.revision.commit.slice(0, 12);
      if (outcome.kind === 'rejected' || outcome.kind === 'timeout') {
        const message =
          outcome.kind === 'rejected'
            ? `the configuration of ${commit} was rejected on this host: ${outcome.message}`
            : `the configuration of ${commit} was not applied within ${timeoutMs / 1000} s`;
        this.logger.warn({ failure: 'config', manifest: config.target.manifest }, message);
        await this.finish('failed', {
          failure: outcome.kind === 'rejected' ? 'config' : 'timeout',
          durationMs: Math.round(performance.now() - started),
          message,
        });
        return;
      }
      if (configOnly) {
        if (!(await this.verify(commandEnv, log, started))) return;
        await log.flush();
        await this.finish('succeeded', {
          durationMs: Math.round(performance.now() - started),
          message: `configuration of ${commit} ${outcome.kind === 'applied' ? 'applied' : 'assigned (read through the SDK)'}`,
        });
        return;
      }
    }
    if (current?.version === release.version) {
      this.logger.info('the host already runs this version: nothing to run');
      await this.finish('succeeded', {
        alreadyAtVersion: true,
        durationMs: 0,
        message: `already at ${release.version}`,
      });
      return;
    }
    await this.step('running');
    const deploy = await this.options.runCommand({
      step: 'deploy',
      command: release.manifest.deploy.command,
      env: commandEnv,
      timeoutMs: (release.manifest.deploy.timeoutSeconds ?? DEFAULT_DEPLOY_TIMEOUT_S) * 1000,
      cwd: this.options.cwd,
      ...this.runAs(),
      onOutput: (chunk) => log.append(chunk),
    });
    if (!succeeded(deploy)) {
      await log.flush();
      await this.fail(deploy.timedOut ? 'timeout' : 'exit', deploy, started);
      return;
    }
    if (!(await this.verify(commandEnv, log, started))) return;
    await log.flush();
    await versions.set(key, {
      version: release.version,
      deployment: this.deployment.id,
      at: new Date().toISOString(),
    });
    await this.finish('succeeded', { exitCode: 0, durationMs: Math.round(performance.now() - started) });
  }

  /** The health check, run again every second until it passes or its time is spent; false (and reported) when it never passed. */
  private async verify(
    commandEnv: Record<string, string>,
    log: LogStream,
    started: number,
  ): Promise<boolean> {
    const health = this.deployment.release.manifest.deploy.healthCheck;
    if (!health) return true;
    await this.step('verifying');
    const deadline = Date.now() + (health.timeoutSeconds ?? DEFAULT_HEALTH_TIMEOUT_S) * 1000;
    let check: StepRun<'health'>;
    for (;;) {
      check = await this.options.runCommand({
        step: 'health',
        command: health.command,
        env: commandEnv,
        timeoutMs: Math.max(1, deadline - Date.now()),
        cwd: this.options.cwd,
        ...this.runAs(),
        onOutput: (chunk) => log.append(chunk),
      });
      if (succeeded(check) || Date.now() + HEALTH_RETRY_MS >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, HEALTH_RETRY_MS));
    }
    if (succeeded(check)) return true;
    await log.flush();
    await this.fail('health', check, started);
    return false;
  }

  /** The user option of runCommand, when the commands run as someone else than the agent. */
  private runAs(): { user?: string } {
    const user = this.options.user();
    return user === undefined ? {} : { user };
  }

  /** Takes the task: its version checked and the ephemeral claim created in one transaction. */
  private async claim(previousVersion: string | undefined): Promise<boolean> {
    const at = new Date().toISOString();
    const next = taskTransition(this.task, 'claimed', this.options.host, at, {
      claimedBy: this.session.sessionId,
      ...(previousVersion !== undefined ? { previousVersion } : {}),
    });
    try {
      await this.session.multi([
        { op: 'set', path: this.taskPath, data: encodeDeploymentTaskRecord(next), version: this.version },
        {
          op: 'create',
          path: this.claimPath,
          mode: 'ephemeral',
          data: encodeDeploymentClaimRecord({
            host: this.options.host,
            session: this.session.sessionId,
            pid: process.pid,
            at,
          }),
        },
      ]);
    } catch (error) {
      if (error instanceof ZkError && error.stale) {
        this.logger.info({ code: error.code }, 'the task changed before it could be claimed: not run');
        return false;
      }
      throw error;
    }
    this.task = next;
    this.version++;
    this.logger.info('task claimed');
    return true;
  }

  private async step(state: 'running' | 'verifying'): Promise<void> {
    if (this.task.state === state) return;
    const next = taskTransition(this.task, state, this.options.host, new Date().toISOString());
    try {
      await this.session.set(this.taskPath, encodeDeploymentTaskRecord(next), this.version);
      this.task = next;
      this.version++;
    } catch (error) {
      // The command runs anyway: the host is being deployed, and the final report says how it went.
      this.logger.warn({ err: error }, `could not record the task as ${state}`);
    }
  }

  private async fail(failure: TaskFailure, run: StepRun<CommandStep>, started: number): Promise<void> {
    const what =
      failure === 'timeout'
        ? `${run.step} timed out`
        : `${run.step} exited ${run.exitCode ?? run.signal ?? 'abnormally'}`;
    this.logger.warn({ failure, exitCode: run.exitCode }, `deploy failed: ${what}`);
    await this.finish('failed', {
      failure,
      ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
      durationMs: Math.round(performance.now() - started),
      message: `${what}: ${run.outputTail.slice(-500)}`,
    });
  }

  /** The final state and the claim's removal, in one transaction. */
  private async finish(state: 'succeeded' | 'failed', changes: Partial<DeploymentTaskRecord>): Promise<void> {
    const next = taskTransition(this.task, state, this.options.host, new Date().toISOString(), changes);
    try {
      await this.session.multi([
        { op: 'set', path: this.taskPath, data: encodeDeploymentTaskRecord(next), version: this.version },
        { op: 'remove', path: this.claimPath },
      ]);
      this.logger.info({ state, durationMs: changes.durationMs }, `task ${state}`);
    } catch (error) {
      // The controller marked it lost meanwhile (this agent's session ended): its word stands.
      this.logger.warn({ err: error, state }, 'could not report the task’s result');
    }
  }
}
