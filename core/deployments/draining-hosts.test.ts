import { describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../records/deployment-record.js';
import {
  type DeploymentTaskRecord,
  type TaskState,
  taskTransition,
} from '../records/deployment-task-record.js';
import { advanceDeployment } from './advance-deployment.js';
import { drainingHostsOf, dueStepHosts } from './draining-hosts.js';
import { newDeployment } from './new-deployment.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const HOSTS = ['h1', 'h2', 'h3', 'h4'];

/** Canary h1, bake 60 s, then batches [h2, h3] and [h4]. */
function deploymentOf(options: { configOnly?: boolean } = {}): DeploymentRecord {
  return newDeployment({
    id: 'd-0000000002',
    service: 'search-api',
    env: 'prod',
    release: {
      version: 'v2',
      commit: 'e'.repeat(40),
      author: { name: 'Ada', email: 'ada@example.com' },
      approvals: [],
      manifest: {
        apiVersion: 'cairn/v1',
        version: 'v2',
        deploy: { command: 'true' },
        strategy: { canary: { hosts: 1, bakeSeconds: 60 }, batchSize: 2, maxFailedHosts: 1 },
      },
    },
    ...(options.configOnly ? { configOnly: true } : {}),
    hosts: HOSTS.map((host) => ({ host })),
    previousVersion: 'v1',
    now: at(0),
    actor: 'controller',
  });
}

/** A rollout as the controller stores it: each pass applies advanceDeployment's writes. */
class Rollout {
  deployment: DeploymentRecord;
  readonly tasks = new Map<string, DeploymentTaskRecord>();
  constructor(deployment: DeploymentRecord) {
    this.deployment = deployment;
  }

  pass(seconds: number, controls: Parameters<typeof advanceDeployment>[0]['controls'] = []): this {
    const claims = new Set([...this.tasks.values()].filter((t) => t.state !== 'pending').map((t) => t.host));
    const result = advanceDeployment({
      deployment: this.deployment,
      tasks: this.tasks,
      claims,
      controls,
      now: at(seconds),
    });
    this.deployment = result.deployment;
    for (const [host, write] of result.tasks) this.tasks.set(host, write.task);
    return this;
  }

  /** The agent moves its task on. */
  task(host: string, state: TaskState, seconds: number): this {
    const task = this.tasks.get(host);
    if (!task) throw new Error(`no task for ${host}`);
    this.tasks.set(host, taskTransition(task, state, `agent:${host}`, at(seconds).toISOString()));
    return this;
  }

  draining(seconds: number): string[] {
    return [...drainingHostsOf(this.deployment, this.tasks, at(seconds))].sort();
  }
}

describe('the hosts consumers see draining during a deployment', () => {
  it('drains the canary before and while it deploys, and puts it back once its health check passed', () => {
    const rollout = new Rollout(deploymentOf());
    // Due at once: the canary drains before its task exists, so consumers can be drained first.
    expect(rollout.draining(0)).toEqual(['h1']);
    rollout.pass(0);
    expect(rollout.tasks.get('h1')?.state).toBe('pending');
    expect(rollout.draining(1)).toEqual(['h1']);
    for (const state of ['claimed', 'running', 'verifying'] as const) {
      rollout.task('h1', state, 2);
      expect(rollout.draining(2)).toEqual(['h1']);
    }
    rollout.task('h1', 'succeeded', 3).pass(3);
    // Baking: nobody drains until the next batch is due.
    expect(rollout.draining(30)).toEqual([]);
    expect(rollout.draining(63)).toEqual(['h2', 'h3']);
    rollout.pass(63);
    expect(rollout.draining(64)).toEqual(['h2', 'h3']);
    rollout.task('h2', 'claimed', 65).task('h2', 'running', 65).task('h2', 'verifying', 66);
    rollout.task('h2', 'succeeded', 67);
    expect(rollout.draining(67)).toEqual(['h3']);
  });

  it('keeps a failed host drained while the deployment is open, and lets every host back when it ends', () => {
    const rollout = new Rollout(deploymentOf()).pass(0);
    rollout.task('h1', 'claimed', 1).task('h1', 'running', 1).task('h1', 'failed', 2).pass(2);
    expect(rollout.deployment.state).toBe('progressing');
    expect(rollout.draining(3)).toContain('h1');
    rollout.pass(70, [{ seq: 1, control: { action: 'abort', by: 'ines', at: at(70).toISOString() } }]);
    expect(rollout.deployment.state).toBe('aborted');
    expect(rollout.draining(71)).toEqual([]);
  });

  it('keeps a host in flight drained after an abort, as its task still finishes, and never the next step', () => {
    const rollout = new Rollout(deploymentOf()).pass(0);
    rollout.task('h1', 'succeeded', 1).pass(61);
    rollout.task('h2', 'claimed', 62).task('h2', 'running', 62);
    rollout.pass(63, [{ seq: 1, control: { action: 'abort', by: 'ines', at: at(63).toISOString() } }]);
    // h3 was pending and not claimed: cancelled, back; h2 restarts still.
    expect(rollout.tasks.get('h3')?.state).toBe('cancelled');
    expect(rollout.draining(64)).toEqual(['h2']);
    rollout.task('h2', 'succeeded', 65);
    expect(rollout.draining(65)).toEqual([]);
  });

  it('drains no host a skip left out, none during a pause, and none for a configuration-only rollout', () => {
    const rollout = new Rollout(deploymentOf()).pass(0);
    rollout.pass(1, [
      { seq: 1, control: { action: 'skip', host: 'h3', by: 'ines', at: at(1).toISOString() } },
    ]);
    rollout.task('h1', 'succeeded', 2).pass(2);
    expect(rollout.draining(62)).toEqual(['h2']);
    rollout.pass(62, [{ seq: 2, control: { action: 'pause', by: 'ines', at: at(62).toISOString() } }]);
    // Paused before the batch started: its hosts stay in rotation however long the pause lasts.
    expect(rollout.deployment.state).toBe('paused');
    expect(rollout.draining(5_000)).toEqual([]);

    const configOnly = new Rollout(deploymentOf({ configOnly: true }));
    expect(configOnly.draining(0)).toEqual([]);
    expect(configOnly.pass(0).draining(1)).toEqual([]);
  });

  it('says which hosts of the step due a drain must reach before it starts: none before it is due, after it started, or for a configuration-only rollout', () => {
    const rollout = new Rollout(deploymentOf());
    expect(dueStepHosts(rollout.deployment, rollout.tasks, at(0))).toEqual(['h1']);
    rollout.pass(0);
    expect(dueStepHosts(rollout.deployment, rollout.tasks, at(1))).toEqual([]);
    rollout.task('h1', 'succeeded', 3).pass(3);
    expect(dueStepHosts(rollout.deployment, rollout.tasks, at(30))).toEqual([]);
    rollout.pass(30, [
      { seq: 1, control: { action: 'skip', host: 'h3', by: 'ines', at: at(30).toISOString() } },
    ]);
    expect(dueStepHosts(rollout.deployment, rollout.tasks, at(63))).toEqual(['h2']);
    const configOnly = new Rollout(deploymentOf({ configOnly: true }));
    expect(dueStepHosts(configOnly.deployment, configOnly.tasks, at(0))).toEqual([]);
  });
});
