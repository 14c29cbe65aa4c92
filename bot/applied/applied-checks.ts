import type { Logger } from 'probot';
import {
  type AgentRecord,
  CoalescingTrigger,
  CorruptRecordError,
  decodeAgentRecord,
  decodeEnvironmentManifest,
  decodeHeadRecord,
  decodeHistoryRecord,
  decodeInstanceRecord,
  decodeServiceRecord,
  errorLogFields,
  type HeadRecord,
  type HistoryRecord,
  type InstanceRecord,
  NodeCache,
  type ServiceRecord,
  SessionKeeper,
  WatchedChildren,
  type ZkSession,
  type ZooKeeperEndpoint,
} from '../../core/index.js';
import { GitHubError } from '../errors.js';
import type { GitHub } from '../github.js';
import { type AppliedCheck, environmentsOf, evaluateAppliedChecks } from './evaluate-applied.js';
import { AppliedCheckPublisher } from './publish-applied-check.js';
import { renderAppliedCheck } from './render-applied.js';

export interface AppliedChecksOptions {
  /** The ZooKeeper the syncer writes to, and its root. */
  readonly endpoint: ZooKeeperEndpoint;
  /**
   * A session to that ZooKeeper the bot shares among its uses, started and closed by its owner;
   * without one, the checks keep a session of their own.
   */
  readonly keeper?: SessionKeeper;
  /** The facade of the repository the syncer mirrors; `reset` after GitHub refused its credentials. */
  readonly repository: { github(): Promise<GitHub>; reset(): void; readonly fullName: string };
  readonly log: Logger;
  /** A check still waiting this long after its commit was mirrored times out. */
  readonly deadlineMs: number;
  /** The most recent mirrored commits followed. Default 20. */
  readonly followCommits?: number;
  /** Commits mirrored longer ago than this are no longer followed. Default twice the deadline. */
  readonly followForMs?: number;
  /** Everything is evaluated again at least this often, whatever the watches said. Default 30 s. */
  readonly resyncIntervalMs?: number;
  readonly now?: () => number;
}

/**
 * Posts the "cairn / applied (<env>)" checks: on each recently mirrored commit, per environment whose
 * snapshot it changed, whether every host the service tree lists and every instance registered there
 * applied it. Long-lived (`start`, `close`): it watches `/head`, every agent's record and the
 * instances of the environments it follows through core's recipes, and evaluates again on every
 * change — coalesced, never twice at once, retried with backoff, and on a timer besides. What it
 * decides is pure (`evaluateAppliedChecks`); this class reads ZooKeeper and posts to GitHub.
 */
export class AppliedChecks {
  private readonly options: AppliedChecksOptions;
  private readonly keeper: SessionKeeper;
  private readonly ownsKeeper: boolean;
  private readonly onSession = () => this.trigger.request();
  private readonly head: NodeCache<HeadRecord>;
  private readonly agents: WatchedChildren<AgentRecord>;
  private readonly instances = new Map<string, WatchedChildren<InstanceRecord>>();
  private readonly trigger: CoalescingTrigger;
  private readonly publisher: AppliedCheckPublisher;
  /** History records by seq: immutable in what matters here. `null`: gone or unreadable. */
  private readonly history = new Map<number, HistoryRecord | null>();
  /** Manifests' files by content id: immutable. `null`: gone or unreadable. */
  private readonly manifests = new Map<string, ReadonlyMap<string, string> | null>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: AppliedChecksOptions) {
    this.options = options;
    const { endpoint, log } = options;
    const layout = endpoint.layout;
    this.ownsKeeper = options.keeper === undefined;
    this.keeper =
      options.keeper ??
      new SessionKeeper({
        endpoint,
        onAttemptFailed: (error, failures) => {
          if (isPowerOfTwo(failures))
            log.warn(
              { ...errorLogFields(error), failures, zk: endpoint.connectString },
              'cannot reach ZooKeeper for the applied checks: retrying',
            );
        },
      });
    const skipped = (path: string, error: unknown) =>
      log.warn({ err: error, path }, 'a record the applied checks read is not valid: left out');
    const cacheError = (error: unknown, failures: number) => {
      if (isPowerOfTwo(failures))
        log.warn(
          { ...errorLogFields(error), failures },
          'reading ZooKeeper for the applied checks failed: retrying',
        );
    };
    this.head = new NodeCache({ keeper: this.keeper, path: layout.head(), decode: decodeHeadRecord });
    this.agents = new WatchedChildren({
      keeper: this.keeper,
      path: layout.agentsDir(),
      childPath: (host) => layout.agent(host),
      decode: decodeAgentRecord,
      onSkipped: skipped,
    });
    this.trigger = new CoalescingTrigger(() => this.evaluate(), {
      retry: { initialMs: 500, maxMs: 60_000 },
      onError: (error, failures, retryInMs) => {
        if (isPowerOfTwo(failures))
          log.warn(
            { ...errorLogFields(error), failures, retryInMs },
            'could not bring the applied checks up to date: retrying',
          );
      },
    });
    this.publisher = new AppliedCheckPublisher(() => options.repository.github());
    this.head.on('change', () => this.trigger.request());
    this.head.on('error', cacheError);
    this.agents.on('change', () => this.trigger.request());
    this.agents.on('error', cacheError);
    this.keeper.on('session', this.onSession);
  }

  start(): void {
    if (this.ownsKeeper) this.keeper.start();
    // A shared session may be up already: look now rather than at its next one.
    else this.trigger.request();
    this.head.start();
    this.agents.start();
    this.resyncTimer = setInterval(() => this.trigger.request(), this.options.resyncIntervalMs ?? 30_000);
    this.resyncTimer.unref();
  }

  /** Evaluates again now (it does by itself on every change it watches). */
  request(): void {
    this.trigger.request();
  }

  /** Resolves once no evaluation is running or pending. */
  async idle(): Promise<void> {
    await this.trigger.idle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.resyncTimer);
    clearTimeout(this.deadlineTimer);
    await this.trigger.close();
    await Promise.all([
      this.head.close(),
      this.agents.close(),
      ...[...this.instances.values()].map((w) => w.close()),
    ]);
    this.instances.clear();
    this.keeper.off('session', this.onSession);
    if (this.ownsKeeper) await this.keeper.close();
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** One pass: read what changed, evaluate every followed check, post what differs from GitHub's runs. */
  private async evaluate(): Promise<void> {
    const session = this.keeper.session;
    // Until the first reads arrive nothing can be judged; their arrival asks for a pass.
    if (this.closed || !session || !this.head.ready || !this.agents.ready) return;
    const head = this.head.node?.value;
    if (!head) return;
    const now = this.now();
    const history = await this.readHistory(session, head, now);
    const changed = history.flatMap((record) => record.snapshots);
    const services = await this.readServices(
      session,
      changed.filter((c) => c.to !== undefined).map((c) => c.service),
    );
    const manifests = await this.readManifests(
      session,
      changed.flatMap((c) => (c.to !== undefined ? [c.to] : [])),
    );
    const instances = new Map<string, readonly InstanceRecord[]>();
    for (const [key, watch] of this.instances)
      if (watch.ready) instances.set(key, [...watch.children.values()]);
    const checks = evaluateAppliedChecks({
      history,
      services,
      agents: this.agents.children,
      instances,
      manifests,
      now,
      deadlineMs: this.options.deadlineMs,
    });
    const followed = checks.filter((check) => !this.publisher.isDone(check));
    this.followInstances(new Set(followed.flatMap(environmentsOf)));
    const failures: unknown[] = [];
    for (const check of followed) {
      // Instances being read: judging without them could call a check a success too early.
      if (!environmentsOf(check).every((key) => instances.has(key))) continue;
      try {
        await this.post(check);
      } catch (error) {
        failures.push(error);
      }
    }
    this.publisher.retain(checks);
    this.scheduleDeadline(followed, now);
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1)
      throw new AggregateError(failures, `${failures.length} applied checks could not be posted`);
  }

  private async post(check: AppliedCheck): Promise<void> {
    const { log, repository, deadlineMs } = this.options;
    const fields = { commit: check.commit, env: check.env, check: check.name };
    try {
      const outcome = await this.publisher.publish(check, renderAppliedCheck(check, deadlineMs));
      if (outcome === 'created' || outcome === 'updated') {
        const state = check.verdict.status === 'completed' ? check.verdict.conclusion : 'in_progress';
        // A run's creation and its conclusions are news; each host reporting in between is not.
        const level = outcome === 'created' || state !== 'in_progress' ? 'info' : 'debug';
        log[level]({ ...fields, state, outcome }, 'posted an applied check');
      }
    } catch (error) {
      if (error instanceof GitHubError && error.code === 'GITHUB_UNAUTHORIZED') repository.reset();
      if (error instanceof GitHubError && error.code === 'GITHUB_REJECTED' && this.publisher.isDone(check)) {
        // GitHub refused to create the run: it knows no such commit. Terminal, said once, not retried.
        log.error(
          { ...fields, err: error },
          `GitHub refused a check run on ${check.commit} in ${repository.fullName}: is CAIRN_REPOSITORY the repository the syncer mirrors?`,
        );
        return;
      }
      throw error;
    }
  }

  /**
   * The history records of the last `followCommits` commits mirrored within `followForMs`. Records
   * are read once each: nothing this check uses changes after a commit is mirrored.
   */
  private async readHistory(session: ZkSession, head: HeadRecord, now: number): Promise<HistoryRecord[]> {
    const layout = this.options.endpoint.layout;
    const count = this.options.followCommits ?? 20;
    const followFor = this.options.followForMs ?? 2 * this.options.deadlineMs;
    const oldest = Math.max(1, head.seq - count + 1);
    for (const seq of this.history.keys()) if (seq < oldest || seq > head.seq) this.history.delete(seq);
    const records: HistoryRecord[] = [];
    for (let seq = head.seq; seq >= oldest; seq--) {
      let record = this.history.get(seq);
      if (record === undefined) {
        const path = layout.historyRecord(seq);
        const node = await session.getIfExists(path);
        record = node ? this.decoded(() => decodeHistoryRecord(node.data, path), path) : null;
        this.history.set(seq, record);
      }
      if (!record) continue;
      const age = now - Date.parse(record.syncedAt);
      if (!(age <= followFor)) break;
      records.push(record);
    }
    return records;
  }

  /** The service tree nodes of these services, read on every pass: a commit may change their hosts. */
  private async readServices(
    session: ZkSession,
    names: readonly string[],
  ): Promise<Map<string, ServiceRecord>> {
    const layout = this.options.endpoint.layout;
    const services = new Map<string, ServiceRecord>();
    for (const name of new Set(names)) {
      const path = layout.service(name);
      const node = await session.getIfExists(path);
      const record = node ? this.decoded(() => decodeServiceRecord(node.data, path), path) : null;
      if (record) services.set(name, record);
    }
    return services;
  }

  private async readManifests(
    session: ZkSession,
    ids: readonly string[],
  ): Promise<Map<string, ReadonlyMap<string, string>>> {
    const layout = this.options.endpoint.layout;
    const wanted = new Set(ids);
    for (const id of this.manifests.keys()) if (!wanted.has(id)) this.manifests.delete(id);
    const manifests = new Map<string, ReadonlyMap<string, string>>();
    for (const id of wanted) {
      let files = this.manifests.get(id);
      if (files === undefined) {
        const path = layout.content(id);
        const node = await session.getIfExists(path);
        files = node ? this.decoded(() => decodeEnvironmentManifest(node.data, path).files, path) : null;
        this.manifests.set(id, files);
      }
      if (files) manifests.set(id, files);
    }
    return manifests;
  }

  /** A record that does not decode is left out (and said so), never a reason to stop. */
  private decoded<T>(decode: () => T, path: string): T | null {
    try {
      return decode();
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      this.options.log.warn({ err: error, path }, 'a record the applied checks read is not valid: left out');
      return null;
    }
  }

  /** Watches the instances of the environments still followed, and only those. */
  private followInstances(keys: ReadonlySet<string>): void {
    const layout = this.options.endpoint.layout;
    for (const [key, watch] of this.instances) {
      if (keys.has(key)) continue;
      this.instances.delete(key);
      void watch.close();
    }
    for (const key of keys) {
      if (this.instances.has(key)) continue;
      const [service, env] = splitKey(key);
      const folder = layout.instances(service, env);
      const watch = new WatchedChildren<InstanceRecord>({
        keeper: this.keeper,
        path: folder,
        childPath: (id) => layout.instance(service, env, id),
        decode: decodeInstanceRecord,
        onSkipped: (path, error) =>
          this.options.log.warn({ err: error, path }, 'an instance record is not valid: left out'),
      });
      watch.on('change', () => this.trigger.request());
      watch.on('error', (error, failures) => {
        if (isPowerOfTwo(failures))
          this.options.log.warn(
            { ...errorLogFields(error), failures, path: folder },
            'reading instances failed: retrying',
          );
      });
      this.instances.set(key, watch);
      watch.start();
    }
  }

  /** A check still waiting is evaluated again the moment its deadline passes. */
  private scheduleDeadline(checks: readonly AppliedCheck[], now: number): void {
    clearTimeout(this.deadlineTimer);
    const next = Math.min(
      ...checks.filter((c) => c.verdict.status === 'in_progress').map((c) => Date.parse(c.deadline)),
    );
    if (!Number.isFinite(next) || this.closed) return;
    this.deadlineTimer = setTimeout(() => this.trigger.request(), Math.max(0, next - now) + 10);
    this.deadlineTimer.unref();
  }
}

/** `service/env` back into its parts: service names never contain `/`. */
function splitKey(key: string): [string, string] {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)];
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
