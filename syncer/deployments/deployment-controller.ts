import type { Logger } from 'pino';
import {
  advanceDeployment,
  CONTROLLER_ACTOR,
  CorruptRecordError,
  configChanged,
  configToRollOut,
  consumerHostDrained,
  controlSeqOf,
  type DeploymentRecord,
  type DeploymentRelease,
  type DeploymentTaskRecord,
  decodeAgentRecord,
  decodeDeploymentControlRecord,
  decodeDeploymentRecord,
  decodeDeploymentTaskRecord,
  decodeEnvironmentPointer,
  decodeHeadRecord,
  decodeHistoryRecord,
  decodeHostAssignmentRecord,
  decodeReleaseRecord,
  decodeServiceRecord,
  deploymentId,
  deploymentSeqOf,
  drainingHostsOf,
  dueStepHosts,
  type EnvironmentPointer,
  encodeDeploymentRecord,
  encodeDeploymentTaskRecord,
  encodeReleaseRecord,
  type FencedWriter,
  hostAssignmentsOf,
  isTerminalDeployment,
  type LeaderTerm,
  type NumberedControl,
  newDeployment,
  type Reconciler,
  type ReleaseRecord,
  type ServiceRecord,
  type SteeringGrants,
  supersedeDeployment,
  ZkError,
  type ZkLayout,
  type ZkOp,
  type ZkSession,
  type ZkWatcher,
} from '../../core/index.js';
import { adoptRolloutAssignments, type DrainRenderer, reconcileEnvironmentDrain } from './drain-ops.js';
import { hostAssignmentOps } from './host-assignment-ops.js';
import { removeTree } from './remove-tree.js';

/** Deployments kept per environment; older finished ones are deleted with their tasks and logs. */
export const DEPLOYMENTS_KEPT = 20;

export interface DeploymentControllerOptions {
  readonly layout: ZkLayout;
  readonly logger: Logger;
  /** Asks the leader role for another pass of this reconciler (a watch fired, a timer is due). */
  readonly request: () => void;
  /** The clock; tests of timers pass their own. */
  readonly now?: () => Date;
  /** How many deployments of an environment are kept (settled ones beyond are removed). Default 20. */
  readonly kept?: number;
  /**
   * The leader's mirror, which renders the files of consumers that drain during deploys: without
   * it, no consumer is drained.
   */
  readonly drains?: DrainRenderer;
}

/** Hosts of a deploying service drain again this long after the mirror could not render them yet. */
const DRAIN_RETRY_MS = 1000;

/** By environment, then by deploying service: its hosts that drain now. */
type DrainingByEnvironment = Map<string, Map<string, Set<string>>>;

/**
 * The deployment controller, a reconciler of the syncer's leader role. For every environment with a
 * release record: a changed release creates a deployment (superseding a running one: tasks in
 * flight finish, no new one starts), the first release ever seen is recorded as already deployed,
 * and every open deployment is advanced by core's `advanceDeployment`. It keeps nothing between
 * passes: what it decides comes from ZooKeeper and the time, so a standby that takes over continues
 * exactly. Every write goes through the term's fenced writer, version-checked against what it read.
 */
export class DeploymentController implements Reconciler {
  readonly name = 'deployments';
  private readonly options: DeploymentControllerOptions;
  private timer: NodeJS.Timeout | undefined;
  /** The term whose end clears the timer: one listener per term, not one per pass. */
  private timedTerm: AbortSignal | undefined;
  private readonly watch: ZkWatcher = () => this.options.request();

  constructor(options: DeploymentControllerOptions) {
    this.options = options;
  }

  async reconcile(term: LeaderTerm): Promise<void> {
    clearTimeout(this.timer);
    const { session, writer } = term;
    const { layout } = this.options;
    let wakeAt: number | undefined;
    const draining: DrainingByEnvironment = new Map();
    /** Environments whose deployments were not all advanced this pass: their drain waits for the next. */
    const unsettled = new Set<string>();
    for (const service of await childrenWatched(session, layout.releasesDir(), this.watch)) {
      for (const env of await childrenWatched(session, layout.releaseService(service), this.watch)) {
        if (term.signal.aborted) return;
        let next: number | undefined;
        const hosts = new Set<string>();
        try {
          const passed = await this.reconcileEnvironment(session, writer, service, env, hosts);
          if (passed === CREATED) unsettled.add(env);
          else next = passed;
          const byService = draining.get(env) ?? new Map<string, Set<string>>();
          byService.set(service, hosts);
          draining.set(env, byService);
        } catch (error) {
          if (!(error instanceof CorruptRecordError)) throw error;
          unsettled.add(env);
          // One damaged record stops its own environment only, until someone repairs or deletes it.
          this.options.logger.error(
            { service, env, err: error },
            `deployments of ${service}/${env} are not advanced: ${error.message}`,
          );
          continue;
        }
        if (next !== undefined) wakeAt = wakeAt === undefined ? next : Math.min(wakeAt, next);
      }
    }
    if (term.signal.aborted) return;
    if (!(await this.drain(session, writer, draining, unsettled))) {
      const retry = this.now().getTime() + DRAIN_RETRY_MS;
      wakeAt = wakeAt === undefined ? retry : Math.min(wakeAt, retry);
    }
    if (wakeAt !== undefined && !term.signal.aborted) {
      const delay = Math.max(0, Math.min(wakeAt - this.now().getTime(), 2 ** 31 - 1));
      this.timer = setTimeout(() => this.options.request(), delay);
      if (this.timedTerm !== term.signal) {
        this.timedTerm = term.signal;
        term.signal.addEventListener('abort', () => clearTimeout(this.timer), { once: true });
      }
    }
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /**
   * The drain of every environment where a host drains or a consumer holds drain assignments: false
   * when one must be tried again soon. An environment whose deployments were not all advanced this
   * pass waits for the next (requested already), rather than restore consumers for a moment.
   */
  private async drain(
    session: ZkSession,
    writer: FencedWriter,
    draining: DrainingByEnvironment,
    unsettled: ReadonlySet<string>,
  ): Promise<boolean> {
    const { drains: renderer, layout, logger } = this.options;
    if (!renderer) return true;
    const pinned = new Map<string, string[]>();
    for (const name of await session.childrenIfExists(layout.pinsDir())) {
      const of = layout.drainPinOf(name);
      if (of) pinned.set(of.env, [...(pinned.get(of.env) ?? []), of.service]);
    }
    let done = true;
    for (const env of new Set([...draining.keys(), ...pinned.keys()])) {
      if (unsettled.has(env)) continue;
      const byService = draining.get(env) ?? new Map<string, Set<string>>();
      if (![...byService.values()].some((hosts) => hosts.size > 0) && !pinned.has(env)) continue;
      const settled = await reconcileEnvironmentDrain({
        session,
        writer,
        layout,
        logger,
        renderer,
        env,
        draining: byService,
        pinned: pinned.get(env) ?? [],
        watch: this.watch,
        now: this.now(),
      });
      done &&= settled;
    }
    return done;
  }

  private async reconcileEnvironment(
    session: ZkSession,
    writer: FencedWriter,
    service: string,
    env: string,
    /** Filled with the hosts of the service that drain now, over its open deployments. */
    draining: Set<string>,
  ): Promise<number | typeof CREATED | undefined> {
    const { layout, logger } = this.options;
    const releasePath = layout.release(service, env);
    const releaseNode = await session.getWatched(releasePath, this.watch);
    if (!releaseNode) return undefined;
    const release = decodeReleaseRecord(releaseNode.data, releasePath);
    const serviceNode = await session.getIfExists(layout.service(service));
    const serviceRecord = serviceNode
      ? decodeServiceRecord(serviceNode.data, layout.service(service))
      : undefined;
    const ids = (await session.childrenIfExists(layout.deployments(service, env)))
      .filter((id) => deploymentSeqOf(id) !== undefined)
      .sort();
    const newestId = ids.at(-1);
    const newest = newestId ? await this.read(session, service, env, newestId) : undefined;
    // The pointer matters only where configuration rides the rollout, or did until now. A service
    // that drains as a consumer instead owns its assignments through the drain (its pointer's
    // `rollout` is the drain's then, and must not start a configuration rollout).
    const settings = serviceRecord?.environments[env];
    const withRelease = settings?.configRollout === 'with-release';
    const riding =
      withRelease || (newest?.record.config !== undefined && settings?.drainDuringDeploys !== true);
    if (!riding && newest?.record.config !== undefined)
      await this.adoptRollout(session, writer, service, env);
    const environment: EnvironmentView = {
      service: serviceRecord,
      pointer: riding ? await this.pointerOf(session, service, env) : undefined,
      riding,
    };
    const releaseChanged = !newest || !sameRelease(newest.record.release.manifest, release);
    if (releaseChanged || configChanged(environment.pointer, newest.record)) {
      await this.create(session, writer, service, env, release, environment, newest, ids, !releaseChanged);
      // The next pass (requested now) advances what was just created.
      this.options.request();
      return CREATED;
    }
    let wakeAt: number | undefined;
    for (const id of ids) {
      const current = id === newestId ? newest : await this.read(session, service, env, id);
      // A settled deployment changes no more; the newest is still read for a retry, and keeps the
      // hosts' assignments as its rollout left them.
      if (!current || (current.record.settled && id !== newestId)) continue;
      const next = await this.advance(
        session,
        writer,
        current,
        id === newestId ? environment : undefined,
        draining,
      );
      if (next !== undefined) wakeAt = wakeAt === undefined ? next : Math.min(wakeAt, next);
    }
    const kept = this.options.kept ?? DEPLOYMENTS_KEPT;
    if (ids.length > kept) {
      for (const id of ids.slice(0, ids.length - kept)) {
        const old = await this.read(session, service, env, id);
        if (old && !old.record.settled) continue;
        await removeTree(session, writer, layout, layout.deployment(service, env, id));
        logger.info({ service, env, deployment: id }, 'old deployment removed');
      }
    }
    return wakeAt;
  }

  /** A service that stopped riding its release to drain as a consumer: the drain takes its assignments. */
  private async adoptRollout(session: ZkSession, writer: FencedWriter, service: string, env: string) {
    const ops = await adoptRolloutAssignments(session, this.options.layout, service, env, this.now());
    if (ops.length === 0) return;
    try {
      await writer.multi(ops);
    } catch (error) {
      // An assignment or pin changed since it was read: the next pass reads again.
      if (error instanceof ZkError && error.stale) {
        this.options.request();
        return;
      }
      throw error;
    }
    this.options.logger.info(
      { service, env },
      `${service}/${env} drains as a consumer now: its rollout's assignments are the drain's, and its rollout pin is gone`,
    );
  }

  /**
   * Whether every consumer that drains `service`'s hosts in `env` (opted in, not riding its own
   * rollout, with files an agent applies) applied the drain of `hosts` on each of its hosts
   * (consumerHostDrained); undefined when no consumer drains them.
   * The assignments and agent records read are watched: the step starts at the pass their change asks for.
   */
  private async drainApplied(
    session: ZkSession,
    service: string,
    env: string,
    hosts: readonly string[],
  ): Promise<boolean | undefined> {
    const { layout } = this.options;
    if (!this.options.drains) return undefined;
    let waited = false;
    for (const consumer of (await session.childrenIfExists(layout.servicesDir())).sort()) {
      const node = await session.getIfExists(layout.service(consumer));
      if (!node) continue;
      const record = decodeServiceRecord(node.data, layout.service(consumer));
      const environment = record.environments[env];
      if (
        !environment?.drainDuringDeploys ||
        environment.configRollout === 'with-release' ||
        !record.files ||
        !record.dependsOn.includes(service)
      )
        continue;
      waited = true;
      for (const { host } of environment.hosts) {
        const path = layout.assignment(consumer, env, host);
        const assigned = await session.getWatched(path, this.watch);
        const agentNode = await session.getWatched(layout.agent(host), this.watch);
        try {
          const drained = consumerHostDrained(service, hosts, {
            consumer,
            env,
            host,
            ...(assigned
              ? {
                  assignment: {
                    record: decodeHostAssignmentRecord(assigned.data, path),
                    mzxid: assigned.stat.mzxid,
                  },
                }
              : {}),
            ...(agentNode ? { agent: decodeAgentRecord(agentNode.data, layout.agent(host)) } : {}),
          });
          if (!drained) return false;
        } catch (error) {
          // A damaged record of another service's host says nothing applied: the step waits, then pauses.
          if (error instanceof CorruptRecordError) return false;
          throw error;
        }
      }
    }
    return waited ? true : undefined;
  }

  private async read(
    session: ZkSession,
    service: string,
    env: string,
    id: string,
  ): Promise<{ record: DeploymentRecord; version: number; path: string } | undefined> {
    const path = this.options.layout.deployment(service, env, id);
    const node = await session.getIfExists(path);
    if (!node) return undefined;
    return { record: decodeDeploymentRecord(node.data, path), version: node.stat.version, path };
  }

  /** The environment's pointer, watched: a change of its files may start a rollout. */
  private async pointerOf(
    session: ZkSession,
    service: string,
    env: string,
  ): Promise<EnvironmentPointer | undefined> {
    const path = this.options.layout.environment(service, env);
    const node = await session.getWatched(path, this.watch);
    if (!node) return undefined;
    return decodeEnvironmentPointer(node.data, path);
  }

  private async create(
    session: ZkSession,
    writer: FencedWriter,
    service: string,
    env: string,
    release: ReleaseRecord,
    environment: EnvironmentView,
    newest: { record: DeploymentRecord; version: number; path: string } | undefined,
    ids: readonly string[],
    configOnly: boolean,
  ): Promise<void> {
    const { layout, logger } = this.options;
    const seq = (ids.length > 0 ? (deploymentSeqOf(ids.at(-1) as string) ?? 0) : 0) + 1;
    const id = deploymentId(seq);
    const now = this.now();
    const hosts = environment.service?.environments[env]?.hosts ?? [];
    const config = configToRollOut(environment.pointer, newest?.record);
    const record = newDeployment({
      id,
      service,
      env,
      release: await this.releaseOf(session, env, release),
      ...(config ? { config } : {}),
      ...(configOnly ? { configOnly } : {}),
      hosts,
      ...(newest ? { previousVersion: newest.record.release.version } : {}),
      now,
      actor: CONTROLLER_ACTOR,
      alreadyDeployed: newest === undefined,
    });
    const ops: ZkOp[] = [];
    if (!(await session.exists(layout.deployments(service, env)))) {
      if (!(await session.exists(layout.deploymentsService(service))))
        ops.push({ op: 'create', path: layout.deploymentsService(service) });
      ops.push({ op: 'create', path: layout.deployments(service, env) });
    }
    ops.push(
      { op: 'create', path: layout.deployment(service, env, id), data: encodeDeploymentRecord(record) },
      { op: 'create', path: layout.deploymentTasks(service, env, id) },
      { op: 'create', path: layout.deploymentClaims(service, env, id) },
      { op: 'create', path: layout.deploymentControls(service, env, id) },
      { op: 'create', path: layout.deploymentLogs(service, env, id) },
    );
    if (newest && !isTerminalDeployment(newest.record.state)) {
      const superseded = supersedeDeployment(newest.record, id, now);
      ops.push({
        op: 'set',
        path: newest.path,
        data: encodeDeploymentRecord(superseded),
        version: newest.version,
      });
    }
    await writer.multi(ops);
    logger.info(
      {
        service,
        env,
        deployment: id,
        version: release.version,
        state: record.state,
        ...(config ? { manifest: config.target.manifest, commit: config.target.revision.commit } : {}),
      },
      newest
        ? `deployment of ${configOnly ? `the configuration of ${config?.target.revision.commit.slice(0, 12)}` : release.version} created${isTerminalDeployment(newest.record.state) ? '' : `, superseding ${newest.record.id}`}`
        : `first release seen for ${service}/${env}: ${release.version} recorded as already deployed`,
    );
  }

  /** The release with the commit that set it, who wrote it and who approved it (from /head and its history record). */
  private async releaseOf(
    session: ZkSession,
    env: string,
    manifest: ReleaseRecord,
  ): Promise<DeploymentRelease> {
    const { layout } = this.options;
    const headNode = await session.getIfExists(layout.head());
    const head = headNode ? decodeHeadRecord(headNode.data, layout.head()) : undefined;
    const revision = head?.environments[env];
    let approvals: string[] = [];
    if (head) {
      const historyNode = await session.getIfExists(layout.historyRecord(head.seq));
      const history = historyNode
        ? decodeHistoryRecord(historyNode.data, layout.historyRecord(head.seq))
        : undefined;
      const record = history?.approvals;
      if (record && 'rules' in record)
        approvals = [...new Set(record.rules.flatMap((rule) => rule.satisfiedBy.map((a) => a.login)))].sort();
    }
    return {
      version: manifest.version,
      commit: revision?.commit ?? head?.commit ?? '',
      author: revision?.author ?? head?.author ?? { name: '', email: '' },
      approvals,
      manifest,
    };
  }

  private async advance(
    session: ZkSession,
    writer: FencedWriter,
    current: { record: DeploymentRecord; version: number; path: string },
    /** Given for the environment's newest deployment: its rollout decides the hosts' assignments. */
    environment: EnvironmentView | undefined,
    draining: Set<string>,
  ): Promise<number | undefined> {
    const { layout, logger } = this.options;
    const { service, env, id } = current.record;
    const taskNames = await childrenWatched(session, layout.deploymentTasks(service, env, id), this.watch);
    const controlNames = await childrenWatched(
      session,
      layout.deploymentControls(service, env, id),
      this.watch,
    );
    const tasks = new Map<string, DeploymentTaskRecord>();
    const versions = new Map<string, number>();
    await Promise.all(
      taskNames.map(async (host) => {
        const path = layout.deploymentTask(service, env, id, host);
        const node = await session.getWatched(path, this.watch);
        if (!node) return;
        tasks.set(host, decodeDeploymentTaskRecord(node.data, path));
        versions.set(host, node.stat.version);
      }),
    );
    // Claims are read after the tasks: a task claimed or finished since it was read has a new
    // version, so a write based on a claim missing from this list fails its version check instead
    // of calling a live task lost.
    const claims = new Set(
      await childrenWatched(session, layout.deploymentClaims(service, env, id), this.watch),
    );
    const controls: NumberedControl[] = [];
    for (const name of controlNames) {
      const seq = controlSeqOf(name);
      if (seq === undefined || seq <= current.record.controlSeq) continue;
      const path = layout.deploymentControl(service, env, id, name);
      const node = await session.getIfExists(path);
      if (!node) continue;
      try {
        controls.push({ seq, control: decodeDeploymentControlRecord(node.data, path) });
      } catch (error) {
        // Only the CLI writes these; a damaged one is skipped (and said), the others still apply.
        logger.warn({ service, env, deployment: id, err: error }, 'a control action cannot be read: skipped');
      }
    }
    // Who may steer is read from the service record as the syncer last wrote it (policy.yaml on the
    // branch); it is checked here, where the action is applied, as well as by the command line.
    let steering: SteeringGrants | undefined;
    if (controls.length > 0) {
      const serviceNode = await session.getIfExists(layout.service(service));
      steering = serviceNode
        ? decodeServiceRecord(serviceNode.data, layout.service(service)).steering
        : undefined;
    }
    const due = dueStepHosts(current.record, tasks, this.now());
    const drainApplied = due.length > 0 ? await this.drainApplied(session, service, env, due) : undefined;
    const result = advanceDeployment({
      deployment: current.record,
      tasks,
      claims,
      controls,
      ...(steering ? { steering } : {}),
      ...(drainApplied !== undefined ? { drainApplied } : {}),
      now: this.now(),
    });
    const after = new Map(tasks);
    for (const [host, write] of result.tasks) after.set(host, write.task);
    for (const host of drainingHostsOf(result.deployment, after, this.now())) draining.add(host);
    const ops: ZkOp[] = [];
    for (const [host, write] of result.tasks) {
      const path = layout.deploymentTask(service, env, id, host);
      const data = encodeDeploymentTaskRecord(write.task);
      if (write.kind === 'create') ops.push({ op: 'create', path, data });
      else ops.push({ op: 'set', path, data, version: versions.get(host) ?? -1 });
    }
    if (result.changed)
      ops.push({
        op: 'set',
        path: current.path,
        data: encodeDeploymentRecord(result.deployment),
        version: current.version,
      });
    if (environment?.riding) {
      // In the transaction that starts a step or aborts: a host takes the new snapshot exactly when
      // its task is created, and every host goes back to the previous one with the abort.
      const hosts = (environment.service?.environments[env]?.hosts ?? []).map((h) => h.host);
      ops.push(
        ...(await hostAssignmentOps(session, layout, {
          service,
          env,
          deployment: id,
          wanted: environment.pointer?.rollout
            ? hostAssignmentsOf(result.deployment, after, hosts)
            : new Map(),
          pointer: environment.pointer,
          hosts,
          now: this.now(),
        })),
      );
    }
    if (ops.length === 0) return result.wakeAt;
    try {
      await writer.multi(ops);
    } catch (error) {
      // An agent wrote a task, or an operator acted, since it was read: look again at once.
      if (error instanceof ZkError && (error.code === 'BAD_VERSION' || error.code === 'NODE_EXISTS')) {
        this.options.request();
        return undefined;
      }
      throw error;
    }
    for (const { seq, control, refusal } of result.rejected)
      logger.warn(
        {
          service,
          env,
          deployment: id,
          code: refusal.code,
          rule: refusal.rule,
          seq,
          action: control.action,
          by: control.by,
        },
        `control action ${control.action} of deployment ${id} rejected: ${refusal.message}`,
      );
    if (result.deployment.state !== current.record.state || result.deployment.step !== current.record.step)
      logger.info(
        {
          service,
          env,
          deployment: id,
          state: result.deployment.state,
          step: result.deployment.step,
          reason: result.deployment.reason,
        },
        `deployment ${id} of ${service}/${env}: ${result.deployment.state}`,
      );
    return result.wakeAt;
  }
}

/** Said by a pass of an environment that created a deployment: the next pass advances it. */
const CREATED = Symbol('created');

/** What the controller reads of an environment besides its deployments. */
interface EnvironmentView {
  readonly service: ServiceRecord | undefined;
  /** Read only while `riding`. */
  readonly pointer: EnvironmentPointer | undefined;
  /** Its configuration rides the rollout, or its newest deployment rolled configuration out. */
  readonly riding: boolean;
}

function sameRelease(a: ReleaseRecord, b: ReleaseRecord): boolean {
  return Buffer.from(encodeReleaseRecord(a)).equals(Buffer.from(encodeReleaseRecord(b)));
}

/** The node's children, sorted and watched; none while it does not exist (its creation watched). */
async function childrenWatched(session: ZkSession, path: string, watch: ZkWatcher): Promise<string[]> {
  return (await session.childrenWatched(path, watch))?.children.sort() ?? [];
}
