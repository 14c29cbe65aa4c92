import type { Logger } from 'pino';
import {
  type AgentRecord,
  type AgentServiceStatus,
  type CairnError,
  claimDirectory,
  type DirectoryClaim,
  decodeServiceRecord,
  EphemeralNode,
  encodeAgentRecord,
  environmentKey,
  type ServiceRecord,
  SessionKeeper,
  WatchedChildren,
} from '../core/index.js';
import type { AgentConfig } from './agent-config.js';
import { type Assignment, assignmentsOf, deployAssignmentsOf } from './assignments.js';
import { commandLauncher } from './command-launcher.js';
import { ConfigOutcomes } from './deploy/config-outcome.js';
import { DeployRunner } from './deploy/deploy-runner.js';
import { DeployedVersions } from './deploy/deployed-versions.js';
import { directoryConflicts } from './directory-conflicts.js';
import { LocalStore, type ServiceSettings } from './local-store.js';
import { commandUser } from './owner.js';
import { type CommandRunner, runCommand } from './run-command.js';
import { ServiceAgent } from './service-agent.js';

/**
 * `cairn agent`: keeps every service this host runs equal to its environment's snapshot. It follows
 * the service tree (which services list this host), runs one ServiceAgent per service and
 * environment, and reports in its ephemeral `/agents/<host>` node. It starts and keeps running with
 * ZooKeeper down: what it wrote before stays, drift is repaired from its own copies, and it catches
 * up once ZooKeeper answers.
 */
export class AgentDaemon {
  private readonly config: AgentConfig;
  private readonly logger: Logger;
  private readonly store: LocalStore;
  private readonly agents = new Map<string, ServiceAgent>();
  /** The deploy tasks of every service and environment this host runs, by environment key. */
  private readonly deployers = new Map<string, DeployRunner>();
  /** The user each environment's deploy commands run as now (the service tree may change it). */
  private readonly deployUsers = new Map<string, string | undefined>();
  private readonly versions: DeployedVersions;
  /** What the service agents did with a snapshot a deployment assigned: what its tasks wait for. */
  private readonly configOutcomes = new ConfigOutcomes((key) => this.agents.get(key)?.status());
  /** Services this host no longer runs, with the last status of each: reported as unmanaged. */
  private readonly unmanaged = new Map<string, AgentServiceStatus>();
  /** Services this host runs but may not write for (a directory another one owns), and why. */
  private readonly refused = new Map<string, AgentServiceStatus>();
  /** The last settings the service tree gave each service: whether to prune when it goes. */
  private readonly lastSettings = new Map<string, ServiceSettings>();
  private readonly startedAt = new Date().toISOString();
  private keeper: SessionKeeper | undefined;
  private tree: WatchedChildren<ServiceRecord> | undefined;
  private registration: EphemeralNode | undefined;
  private changing: Promise<void> = Promise.resolve();
  private closed = false;
  /** The state directory, held for this agent alone from start to close. */
  private stateClaim: DirectoryClaim | undefined;

  private readonly runCommand: CommandRunner;

  /**
   * `runCommand` runs the services' checks and reloads and the releases' deploy commands; an agent
   * that only plays a host (`cairn start`) passes `rehearseCommand`, which runs none of them.
   */
  constructor(config: AgentConfig, logger: Logger, options: { readonly runCommand?: CommandRunner } = {}) {
    this.config = config;
    this.runCommand = options.runCommand ?? runCommand;
    this.logger = logger.child({ host: config.host });
    this.store = new LocalStore(config.stateDir);
    this.versions = new DeployedVersions(config.stateDir);
  }

  async start(): Promise<void> {
    // Two agents on one state directory would each undo the other's swaps and journals.
    this.stateClaim = await claimDirectory(
      this.config.stateDir,
      'agent',
      'give each agent its own --state-dir (CAIRN_AGENT_STATE_DIR), or stop the other one first',
    );
    try {
      await this.#start();
    } catch (error) {
      await this.stateClaim.release();
      this.stateClaim = undefined;
      throw error;
    }
  }

  async #start(): Promise<void> {
    const { endpoint, host } = this.config;
    const { layout } = endpoint;
    await this.store.init();
    // Before this process writes anything there: a temp file named by its own pid is a stale one.
    const removed = await this.store.removeStaleTempFiles();
    if (removed.length > 0)
      this.logger.info({ files: removed }, 'removed temp files a stopped agent left in its state directory');
    if (this.runCommand === runCommand) commandLauncher.prepare();
    const keeper = new SessionKeeper({
      endpoint,
      onAttemptFailed: (error, failures) => {
        if (failures === 1)
          this.logger.warn(
            { code: (error as CairnError).code },
            `cannot reach ZooKeeper: ${(error as Error).message}; the files on disk stay as they are, retrying`,
          );
      },
    });
    this.keeper = keeper;
    // Once when lost and once when back, however many attempts between.
    let lost = false;
    keeper.on('state', (state) => {
      if ((state === 'disconnected' || state === 'expired') && !lost) {
        lost = true;
        this.logger.warn(
          { code: 'CONNECTION_LOSS' },
          'disconnected from ZooKeeper: keeping the files as they are',
        );
      } else if (state === 'connected' && lost) {
        lost = false;
        this.logger.info('connected to ZooKeeper again');
      }
    });
    // What this host ran before it started: kept, and repaired from local copies, until the service tree says.
    const before = (await this.store.allApplied()).map((state) => ({
      service: state.service,
      env: state.env,
      key: environmentKey(state.service, state.env),
      settings: state.settings,
    }));
    for (const assignment of await this.refuseOverlapping(before)) await this.startAgent(assignment);
    this.registration = new EphemeralNode({
      keeper,
      path: layout.agent(host),
      onError: (error) =>
        this.logger.warn(
          { code: (error as CairnError).code },
          `cannot report in ${layout.agent(host)}: ${(error as Error).message}`,
        ),
    });
    this.registration.start(encodeAgentRecord(this.record()));
    const tree = new WatchedChildren({
      keeper,
      path: layout.servicesDir(),
      childPath: (name) => layout.service(name),
      decode: decodeServiceRecord,
      onSkipped: (path, error) =>
        this.logger.warn(
          { path, err: error },
          'a service tree node cannot be read: its services are left as they are',
        ),
    });
    this.tree = tree;
    tree.on('change', (services) => {
      this.changing = this.changing
        .then(() => this.follow(services))
        .catch((error: unknown) => {
          this.logger.error(
            { err: error },
            'could not follow the service tree; retrying with its next change',
          );
        });
    });
    tree.start();
    keeper.start();
    this.logger.info({ prefix: this.config.prefix, stateDir: this.config.stateDir }, 'agent started');
    if (this.config.applyOwner && process.getuid?.() !== 0)
      this.logger.warn(
        { code: 'NOT_ROOT', uid: process.getuid?.() },
        'the agent is not running as root: every command runs as its own user, and a service whose files.owner is another user fails until the agent runs as root',
      );
  }

  /** What this agent says about itself in `/agents/<host>`. */
  record(): AgentRecord {
    const services: Record<string, AgentServiceStatus> = {};
    for (const [key, status] of this.unmanaged) services[key] = status;
    for (const [key, status] of this.refused) services[key] = status;
    for (const [key, agent] of this.agents) services[key] = agent.status();
    return { host: this.config.host, pid: process.pid, startedAt: this.startedAt, services };
  }

  /** Resolves when the service tree has been followed and every service agent is idle. */
  async whenIdle(): Promise<void> {
    await this.changing;
    for (const agent of this.agents.values()) await agent.idle();
    for (const deployer of this.deployers.values()) await deployer.idle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tree?.close();
    await this.changing;
    for (const agent of this.agents.values()) await agent.stop({ prune: false, unmanaged: false });
    for (const deployer of this.deployers.values()) await deployer.close();
    await this.registration?.close().catch(() => {
      // The node dies with the session anyway.
    });
    await this.keeper?.close();
    await this.stateClaim?.release();
    this.logger.info('agent stopped');
  }

  /** Starts what the service tree now lists for this host, and stops what it no longer lists. */
  private async follow(services: ReadonlyMap<string, ServiceRecord>): Promise<void> {
    if (this.closed) return;
    if (services.size === 0 && this.agents.size > 0) {
      // Nothing mirrored under this root (a wrong --root, a wiped ensemble) is not a reason to drop
      // every service, let alone delete their files: keep them until the tree lists services again.
      this.logger.warn(
        { root: this.config.endpoint.layout.root },
        'the service tree is empty: keeping every service as it is',
      );
      return;
    }
    const byName = new Map([...services.values()].map((record) => [record.name, record]));
    await this.followDeploys(byName);
    const assigned = assignmentsOf(byName, this.config.host, this.config.prefix);
    const wanted = await this.refuseOverlapping(assigned);
    const keys = new Set(assigned.map((a) => a.key));
    for (const key of this.refused.keys()) if (!keys.has(key)) this.refused.delete(key);
    for (const [key, agent] of this.agents) {
      if (keys.has(key)) continue;
      this.agents.delete(key);
      const prune = this.lastSettings.get(key)?.prune ?? false;
      await agent.stop({ prune, unmanaged: !prune });
      if (!prune) this.unmanaged.set(key, agent.status());
      this.logger.info(
        { key, prune },
        prune
          ? 'host no longer runs the service: files deleted'
          : 'host no longer runs the service: files left in place, unmanaged',
      );
      this.report();
    }
    for (const assignment of wanted) {
      this.lastSettings.set(assignment.key, assignment.settings);
      const agent = this.agents.get(assignment.key);
      if (agent) agent.updateSettings(assignment.settings);
      else await this.startAgent(assignment);
    }
  }

  /** One deploy runner per service and environment that lists this host, files or not. */
  private async followDeploys(services: ReadonlyMap<string, ServiceRecord>): Promise<void> {
    const wanted = deployAssignmentsOf(services, this.config.host);
    const keys = new Set(wanted.map((a) => a.key));
    for (const [key, deployer] of this.deployers) {
      if (keys.has(key)) continue;
      this.deployers.delete(key);
      await deployer.close();
    }
    for (const { service, env, key, owner } of wanted) {
      this.deployUsers.set(
        key,
        commandUser(owner, { applyOwner: this.config.applyOwner, uid: process.getuid?.() }),
      );
      if (this.deployers.has(key) || !this.keeper || this.closed) continue;
      const deployer = new DeployRunner({
        keeper: this.keeper,
        layout: this.config.endpoint.layout,
        service,
        env,
        host: this.config.host,
        versions: this.versions,
        awaitConfig: this.configOutcomes.forEnvironment(key),
        cwd: this.config.prefix ?? '/',
        user: () => this.deployUsers.get(key),
        runCommand: this.runCommand,
        logger: this.logger,
      });
      this.deployers.set(key, deployer);
      deployer.start();
    }
  }

  /**
   * Sets apart the assignments whose directory another one (or the agent's state) owns: their
   * agents stop, without pruning, and they are reported failed with the reason until the service
   * tree gives them directories of their own. Returns the others, to keep.
   */
  private async refuseOverlapping(assignments: readonly Assignment[]): Promise<Assignment[]> {
    const conflicts = directoryConflicts(assignments, this.config.stateDir);
    const at = new Date().toISOString();
    for (const assignment of assignments) {
      const reason = conflicts.get(assignment.key);
      if (reason === undefined) {
        this.refused.delete(assignment.key);
        continue;
      }
      const agent = this.agents.get(assignment.key);
      if (agent) {
        this.agents.delete(assignment.key);
        await agent.stop({ prune: false, unmanaged: false });
      }
      const last = agent?.status();
      const known = this.refused.get(assignment.key);
      if (known?.error?.message === reason) continue;
      this.refused.set(assignment.key, {
        service: assignment.service,
        env: assignment.env,
        directory: assignment.settings.directory,
        files: last?.files ?? {},
        drift: [],
        ...(last?.commit !== undefined ? { commit: last.commit } : {}),
        ...(last?.manifest !== undefined ? { manifest: last.manifest } : {}),
        ...(last?.appliedAt !== undefined ? { appliedAt: last.appliedAt } : {}),
        state: 'failed',
        error: { code: 'DIRECTORY_CONFLICT', message: reason, at },
      });
      this.logger.warn(
        { service: assignment.service, env: assignment.env, code: 'DIRECTORY_CONFLICT' },
        `refusing ${assignment.key}: ${reason}`,
      );
    }
    this.report();
    return assignments.filter((assignment) => !conflicts.has(assignment.key));
  }

  private async startAgent(assignment: Assignment): Promise<void> {
    if (this.closed || this.agents.has(assignment.key) || !this.keeper) return;
    this.unmanaged.delete(assignment.key);
    this.refused.delete(assignment.key);
    this.lastSettings.set(assignment.key, assignment.settings);
    const agent = new ServiceAgent({
      keeper: this.keeper,
      layout: this.config.endpoint.layout,
      service: assignment.service,
      env: assignment.env,
      host: this.config.host,
      settings: assignment.settings,
      store: this.store,
      commandTimeoutMs: this.config.commandTimeoutMs,
      runCommand: this.runCommand,
      drift: { intervalMs: this.config.driftIntervalMs, repair: this.config.driftRepair },
      applyOwner: this.config.applyOwner,
      logger: this.logger,
      onStatus: () => this.report(),
    });
    this.agents.set(assignment.key, agent);
    await agent.start();
  }

  private report(): void {
    this.registration?.update(encodeAgentRecord(this.record()));
    this.configOutcomes.changed();
  }
}
