import type { Logger } from 'probot';
import {
  CoalescingTrigger,
  CorruptRecordError,
  type DeploymentRecord,
  decodeDeploymentRecord,
  deploymentSeqOf,
  errorLogFields,
  type SessionKeeper,
  type ZkLayout,
  type ZkSession,
  type ZkWatcher,
} from '../../core/index.js';
import { GitHubError } from '../errors.js';
import type { GitHub } from '../github.js';
import { deploymentStatusOf } from './deployment-status.js';

export interface GitHubDeploymentsOptions {
  /** The session to the ZooKeeper the syncer writes to; started and closed by whoever made it. */
  readonly keeper: SessionKeeper;
  readonly layout: ZkLayout;
  /** The facade of the repository the syncer mirrors; `reset` after GitHub refused its credentials. */
  readonly repository: { github(): Promise<GitHub>; reset(): void; readonly fullName: string };
  readonly log: Logger;
  /** The newest deployments of each environment followed. Default 3: the running one, what it superseded. */
  readonly followPerEnvironment?: number;
  /** Everything is read again at least this often, whatever the watches said. Default 30 s. */
  readonly resyncIntervalMs?: number;
}

/** What the bot knows of the GitHub Deployment of one Cairn deployment. */
interface Mirrored {
  readonly id: number;
  /** The last status GitHub holds, as `state description`. */
  posted: string | undefined;
  /** Its final status is posted: nothing more to do. */
  done: boolean;
}

/**
 * Mirrors every Cairn deployment as a GitHub Deployment of its commit (environment = the Cairn
 * environment) with a status per change of state: queued, in progress, success, failure, inactive
 * once superseded. Long-lived (`start`, `close`): it watches `/deployments` and the records of the
 * deployments it follows and passes over them on every change, coalesced, never twice at once,
 * retried with backoff, and on a timer besides. Each deployment is found on GitHub by the key in its
 * payload before one is created, and a status is posted only when it differs from the newest GitHub
 * holds, so a restarted bot posts nothing twice.
 */
export class GitHubDeployments {
  private readonly options: GitHubDeploymentsOptions;
  private readonly trigger: CoalescingTrigger;
  private readonly mirrored = new Map<string, Mirrored | 'refused'>();
  private readonly watch: ZkWatcher = () => this.trigger.request();
  private readonly onSession = () => this.trigger.request();
  private resyncTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: GitHubDeploymentsOptions) {
    this.options = options;
    this.trigger = new CoalescingTrigger(() => this.pass(), {
      retry: { initialMs: 500, maxMs: 60_000 },
      onError: (error, failures, retryInMs) => {
        if (isPowerOfTwo(failures))
          options.log.warn(
            { ...errorLogFields(error), failures, retryInMs },
            'could not bring the GitHub deployments up to date: retrying',
          );
      },
    });
  }

  start(): void {
    this.options.keeper.on('session', this.onSession);
    this.resyncTimer = setInterval(() => this.trigger.request(), this.options.resyncIntervalMs ?? 30_000);
    this.resyncTimer.unref();
    this.trigger.request();
  }

  /** Resolves once no pass is running or pending. */
  async idle(): Promise<void> {
    await this.trigger.idle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.resyncTimer);
    this.options.keeper.off('session', this.onSession);
    await this.trigger.close();
  }

  /** One pass: every followed deployment's GitHub status brought to what its record says. */
  private async pass(): Promise<void> {
    const session = this.options.keeper.session;
    if (this.closed || !session) return;
    const failures: unknown[] = [];
    const followed = new Set<string>();
    for (const record of await this.readFollowed(session, followed)) {
      try {
        await this.mirror(record);
      } catch (error) {
        failures.push(error);
      }
    }
    // Memory stays bounded: deployments no longer followed are forgotten.
    for (const key of this.mirrored.keys()) if (!followed.has(key)) this.mirrored.delete(key);
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1)
      throw new AggregateError(failures, `${failures.length} GitHub deployments could not be updated`);
  }

  /** The records of the newest deployments of every environment whose GitHub status is not final yet. */
  private async readFollowed(session: ZkSession, followed: Set<string>): Promise<DeploymentRecord[]> {
    const { layout, log } = this.options;
    const count = this.options.followPerEnvironment ?? 3;
    const records: DeploymentRecord[] = [];
    const services = await session.childrenWatched(layout.deploymentsDir(), this.watch);
    for (const service of services?.children ?? []) {
      const envs = await session.childrenWatched(layout.deploymentsService(service), this.watch);
      for (const env of envs?.children ?? []) {
        const ids = await session.childrenWatched(layout.deployments(service, env), this.watch);
        const newest = (ids?.children ?? [])
          .filter((id) => deploymentSeqOf(id) !== undefined)
          .sort()
          .slice(-count);
        for (const id of newest) {
          const key = keyOf(service, env, id);
          followed.add(key);
          const known = this.mirrored.get(key);
          if (known === 'refused' || known?.done) continue;
          const path = layout.deployment(service, env, id);
          const node = await session.getWatched(path, this.watch);
          if (!node) continue;
          try {
            records.push(decodeDeploymentRecord(node.data, path));
          } catch (error) {
            if (!(error instanceof CorruptRecordError)) throw error;
            log.warn({ err: error, path }, 'a deployment record is not valid: not mirrored on GitHub');
          }
        }
      }
    }
    return records;
  }

  private async mirror(record: DeploymentRecord): Promise<void> {
    const { log, repository } = this.options;
    const key = keyOf(record.service, record.env, record.id);
    const status = deploymentStatusOf(record);
    const fields = { service: record.service, env: record.env, deployment: record.id, state: status.state };
    try {
      const github = await repository.github();
      const mirrored = await this.find(github, record, key);
      const wanted = fingerprint(status);
      if (mirrored.posted !== wanted) {
        await github.createDeploymentStatus(mirrored.id, status);
        mirrored.posted = wanted;
        log.info({ ...fields, githubDeployment: mirrored.id }, 'posted a GitHub deployment status');
      }
      mirrored.done = status.final;
    } catch (error) {
      if (error instanceof GitHubError && error.code === 'GITHUB_UNAUTHORIZED') repository.reset();
      if (error instanceof GitHubError && error.code === 'GITHUB_REJECTED') {
        // GitHub knows no such commit in this repository: retrying would not change that.
        this.mirrored.set(key, 'refused');
        log.error(
          { ...fields, commit: record.release.commit, err: error },
          `GitHub refused a deployment of ${record.release.commit} in ${repository.fullName}: is CAIRN_REPOSITORY the repository the syncer mirrors?`,
        );
        return;
      }
      throw error;
    }
  }

  /** The GitHub Deployment of this Cairn deployment: remembered, found by its key, or created. */
  private async find(github: GitHub, record: DeploymentRecord, key: string): Promise<Mirrored> {
    const known = this.mirrored.get(key);
    if (known && known !== 'refused') return known;
    const found = await github.findDeployment(record.release.commit, record.env, key);
    const mirrored: Mirrored = found
      ? { id: found.id, posted: found.latest && fingerprint(found.latest), done: false }
      : {
          id: await github.createDeployment({
            sha: record.release.commit,
            environment: record.env,
            description: `${record.service} ${record.release.version} (${record.id})`.slice(0, 140),
            key,
            payload: { service: record.service, version: record.release.version, deployment: record.id },
          }),
          posted: undefined,
          done: false,
        };
    this.mirrored.set(key, mirrored);
    return mirrored;
  }
}

function keyOf(service: string, env: string, id: string): string {
  return `${service}/${env}/${id}`;
}

function fingerprint(status: { readonly state: string; readonly description: string }): string {
  return `${status.state} ${status.description}`;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
