import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReleaseStrategy } from '../manifests.js';
import type { ControlAction } from '../records/deployment-control-record.js';
import type { DeploymentRecord } from '../records/deployment-record.js';
import {
  type DeploymentTaskRecord,
  isActiveTask,
  isFailedTask,
  isTerminalTask,
  taskTransition,
} from '../records/deployment-task-record.js';
import { advanceDeployment, type NumberedControl, supersedeDeployment } from './advance-deployment.js';
import { newDeployment } from './new-deployment.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function deploymentOf(strategy: ReleaseStrategy, hosts: number): DeploymentRecord {
  return newDeployment({
    id: 'd-0000000002',
    service: 'search-api',
    env: 'prod',
    release: {
      version: 'v2',
      commit: 'a'.repeat(40),
      author: { name: 'Ada', email: 'ada@example.com' },
      approvals: ['grace'],
      manifest: { apiVersion: 'cairn/v1', version: 'v2', deploy: { command: 'true' }, strategy },
    },
    hosts: Array.from({ length: hosts }, (_, i) => ({ host: `h${i + 1}` })),
    previousVersion: 'v1',
    now: new Date(T0),
    actor: 'controller',
  });
}

/** The deployment as ZooKeeper would hold it, with agents that act as told, and the controller's passes. */
class Simulation {
  deployment: DeploymentRecord;
  readonly tasks = new Map<string, DeploymentTaskRecord>();
  readonly claims = new Set<string>();
  readonly controls: NumberedControl[] = [];
  /** What the consumers that drain say of the due step's drain; undefined: none drains. */
  drainApplied: boolean | undefined;
  now = T0;
  /** How many times each host's task was created. */
  readonly created = new Map<string, number>();

  constructor(deployment: DeploymentRecord) {
    this.deployment = deployment;
  }

  pass() {
    const before = this.deployment;
    const result = advanceDeployment({
      deployment: this.deployment,
      tasks: this.tasks,
      claims: this.claims,
      controls: this.controls,
      ...(this.drainApplied !== undefined ? { drainApplied: this.drainApplied } : {}),
      now: new Date(this.now),
    });
    for (const [host, write] of result.tasks) {
      if (write.kind === 'create') {
        expect(this.tasks.has(host), `${host} created twice`).toBe(false);
        this.created.set(host, (this.created.get(host) ?? 0) + 1);
      } else expect(this.tasks.has(host), `${host} updated before it exists`).toBe(true);
      this.tasks.set(host, write.task);
    }
    this.deployment = result.deployment;
    return { before, result };
  }

  control(action: ControlAction, host?: string) {
    this.controls.push({
      seq: this.controls.length,
      control: { action, by: 'user:ops', at: new Date(this.now).toISOString(), ...(host ? { host } : {}) },
    });
  }

  claim(host: string) {
    const task = this.tasks.get(host);
    if (task?.state !== 'pending') return;
    this.claims.add(host);
    this.tasks.set(host, taskTransition(task, 'claimed', host, this.iso()));
  }

  finish(host: string, ok: boolean) {
    const task = this.tasks.get(host);
    if (!task || !isActiveTask(task.state) || !this.claims.has(host)) return;
    this.claims.delete(host);
    this.tasks.set(
      host,
      taskTransition(task, ok ? 'succeeded' : 'failed', host, this.iso(), ok ? {} : { failure: 'exit' }),
    );
  }

  die(host: string) {
    this.claims.delete(host);
  }

  iso() {
    return new Date(this.now).toISOString();
  }

  /** Agents that claim and succeed at once, time that moves on, until the deployment rests. */
  runToEnd(fail: ReadonlySet<string> = new Set()) {
    for (let i = 0; i < 200; i++) {
      const { result } = this.pass();
      for (const task of [...this.tasks.values()]) {
        if (task.state === 'pending') this.claim(task.host);
        if (isActiveTask(this.tasks.get(task.host)?.state ?? 'pending'))
          this.finish(task.host, !fail.has(task.host));
      }
      if (this.deployment.state !== 'progressing' && this.deployment.state !== 'pending') return;
      this.now = result.wakeAt !== undefined ? Math.max(this.now + 1000, result.wakeAt) : this.now + 1000;
    }
  }

  stepOf(host: string) {
    return this.deployment.plan.steps.findIndex((s) => s.hosts.includes(host));
  }
}

describe('advanceDeployment', () => {
  it('deploys ten hosts canary 1 then batches of 3, baking after the canary and pausing between batches', () => {
    const sim = new Simulation(
      deploymentOf(
        { canary: { hosts: 1, bakeSeconds: 60 }, batchSize: 3, pauseBetweenBatchesSeconds: 30 },
        10,
      ),
    );
    sim.pass();
    expect([...sim.tasks.keys()]).toEqual(['h1']);
    sim.claim('h1');
    sim.finish('h1', true);
    sim.now += 10_000;
    sim.pass();
    expect([...sim.tasks.keys()]).toEqual(['h1']);
    expect(sim.deployment.nextStepAt).toBe(new Date(T0 + 60_000).toISOString());
    sim.now = T0 + 60_000;
    sim.pass();
    expect([...sim.tasks.keys()]).toEqual(['h1', 'h2', 'h3', 'h4']);
    sim.runToEnd();
    expect(sim.deployment.state).toBe('succeeded');
    expect([...sim.created.values()].every((n) => n === 1)).toBe(true);
    expect(sim.created.size).toBe(10);
  });

  it('halts (pauses, reason budget) when more hosts fail than the budget allows, and a resume goes on', () => {
    const sim = new Simulation(deploymentOf({ batchSize: 3, maxFailedHosts: 1 }, 10));
    sim.runToEnd(new Set(['h2', 'h5']));
    expect(sim.deployment).toMatchObject({ state: 'paused', pauseReason: 'budget', step: 1 });
    expect(sim.tasks.has('h7')).toBe(false);
    sim.control('resume');
    sim.runToEnd();
    expect(sim.deployment.state).toBe('succeeded');
    expect(sim.deployment.transitions.some((t) => t.actor === 'user:ops' && t.state === 'progressing')).toBe(
      true,
    );
  });

  it('marks a task lost as soon as its claim is gone, and cancels tasks not started when aborted', () => {
    const sim = new Simulation(deploymentOf({ batchSize: 2 }, 4));
    sim.pass();
    sim.claim('h1');
    sim.die('h1');
    sim.control('abort');
    sim.pass();
    expect(sim.tasks.get('h1')?.state).toBe('lost');
    expect(sim.tasks.get('h2')?.state).toBe('cancelled');
    expect(sim.deployment.state).toBe('aborted');
    expect(sim.tasks.has('h3')).toBe(false);
  });

  it('creates a skipped host’s task skipped, and runs a retried host again', () => {
    const sim = new Simulation(deploymentOf({ batchSize: 2, maxFailedHosts: 5 }, 4));
    sim.control('skip', 'h4');
    sim.runToEnd(new Set(['h1']));
    expect(sim.tasks.get('h4')?.state).toBe('skipped');
    expect(sim.tasks.get('h1')?.state).toBe('failed');
    expect(sim.deployment.state).toBe('succeeded');
    sim.control('retry');
    sim.runToEnd();
    expect(sim.tasks.get('h1')).toMatchObject({ state: 'succeeded', attempt: 2 });
    expect(sim.deployment.state).toBe('succeeded');
  });

  it('fails a step that outlives the progress deadline', () => {
    const sim = new Simulation(deploymentOf({ batchSize: 2, progressDeadlineSeconds: 60 }, 4));
    const { result } = sim.pass();
    expect(result.wakeAt).toBe(T0 + 60_000);
    sim.now = T0 + 60_000;
    sim.pass();
    expect(sim.deployment.state).toBe('failed');
    expect(sim.tasks.get('h1')?.state).toBe('cancelled');
  });

  it('pauses after the canary when the strategy says so, and the bake counts from the canary’s end', () => {
    const sim = new Simulation(
      deploymentOf({ canary: { hosts: 1, bakeSeconds: 100, pause: true }, batchSize: 2 }, 3),
    );
    sim.runToEnd();
    expect(sim.deployment).toMatchObject({ state: 'paused', pauseReason: 'canary' });
    sim.now = T0 + 50_000;
    sim.control('resume');
    const { result } = sim.pass();
    expect(sim.tasks.size).toBe(1);
    expect(result.wakeAt).toBe(T0 + 100_000);
  });

  it('holds a step until the consumers applied its drain, from a stored deadline, then starts it', () => {
    const sim = new Simulation(deploymentOf({ batchSize: 2 }, 4));
    sim.drainApplied = false;
    const { result } = sim.pass();
    expect(sim.tasks.size).toBe(0);
    expect(sim.deployment).toMatchObject({
      state: 'progressing',
      drainDeadline: new Date(T0 + 600_000).toISOString(),
    });
    expect(result.wakeAt).toBe(T0 + 600_000);
    // A later pass (another controller's, after a failover) waits for the same deadline.
    sim.now = T0 + 10_000;
    expect(sim.pass().result.wakeAt).toBe(T0 + 600_000);
    expect(sim.tasks.size).toBe(0);
    sim.drainApplied = true;
    sim.pass();
    expect([...sim.tasks.keys()]).toEqual(['h1', 'h2']);
    expect(sim.deployment.drainDeadline).toBeUndefined();
  });

  it('pauses (reason drain) when the drain is not applied within the deploy timeout; a resume deploys without it', () => {
    const d = deploymentOf({ batchSize: 2 }, 4);
    const manifest = d.release.manifest;
    const sim = new Simulation({
      ...d,
      release: {
        ...d.release,
        manifest: { ...manifest, deploy: { ...manifest.deploy, timeoutSeconds: 30 } },
      },
    });
    sim.drainApplied = false;
    sim.pass();
    sim.now = T0 + 30_000;
    sim.pass();
    expect(sim.deployment).toMatchObject({ state: 'paused', pauseReason: 'drain' });
    expect(sim.deployment.reason).toMatch(/did not apply the drain of step 1\/2 within 30 s: resume/);
    expect(sim.deployment.drainDeadline).toBeUndefined();
    expect(sim.tasks.size).toBe(0);
    sim.control('resume');
    sim.pass();
    expect(sim.deployment).toMatchObject({ state: 'progressing', drainWaived: 0 });
    expect([...sim.tasks.keys()]).toEqual(['h1', 'h2']);
  });

  it('starts nothing once superseded, and lets a task in flight finish', () => {
    const sim = new Simulation(deploymentOf({ batchSize: 2 }, 4));
    sim.pass();
    sim.claim('h1');
    sim.deployment = supersedeDeployment(sim.deployment, 'd-0000000003', new Date(sim.now));
    sim.pass();
    expect(sim.tasks.get('h1')?.state).toBe('claimed');
    expect(sim.tasks.get('h2')?.state).toBe('cancelled');
    sim.finish('h1', true);
    sim.now += 600_000;
    sim.pass();
    expect(sim.tasks.size).toBe(2);
  });

  it('records the first release it sees as already deployed', () => {
    const first = newDeployment({
      ...{ id: 'd-0000000001', service: 's', env: 'e', now: new Date(T0), actor: 'controller' },
      release: deploymentOf({ batchSize: 1 }, 1).release,
      hosts: [{ host: 'h1' }],
      alreadyDeployed: true,
    });
    expect(first.state).toBe('succeeded');
    const result = advanceDeployment({
      deployment: first,
      tasks: new Map(),
      claims: new Set(),
      controls: [],
      now: new Date(T0),
    });
    expect(result.tasks.size).toBe(0);
    expect(result.changed).toBe(false);
  });

  it('rejects a control action whose actor the steering policy does not allow, and keeps who, when and why', () => {
    const deployment = deploymentOf({ batchSize: 2 }, 4);
    const abort = (seq: number, by: string) => ({
      seq,
      control: { action: 'abort' as const, by, at: new Date(T0).toISOString(), reason: 'looks wrong' },
    });
    const steering = [
      { env: 'prod', rule: 'prod-steering', actions: ['abort' as const], from: ['user:ines'] },
    ];
    const refused = advanceDeployment({
      deployment,
      tasks: new Map(),
      claims: new Set(),
      controls: [abort(0, 'mallory')],
      steering,
      now: new Date(T0),
    });
    expect(refused.deployment.state).toBe('progressing');
    expect(refused.deployment.controlSeq).toBe(0);
    expect(refused.rejected.map((r) => [r.seq, r.refusal.rule])).toEqual([[0, 'prod-steering']]);
    expect(refused.deployment.rejected).toEqual([
      {
        seq: 0,
        action: 'abort',
        by: 'mallory',
        at: new Date(T0).toISOString(),
        reason: 'looks wrong',
        rejectedAt: new Date(T0).toISOString(),
        rejection: 'mallory may not abort: policy.yaml\'s deployments rule "prod-steering" allows user:ines',
      },
    ]);
    const allowed = advanceDeployment({
      deployment: refused.deployment,
      tasks: new Map([...refused.tasks].map(([host, write]) => [host, write.task])),
      claims: new Set(),
      controls: [abort(0, 'mallory'), abort(1, 'ines')],
      steering,
      now: new Date(T0),
    });
    expect(allowed.rejected).toEqual([]);
    expect(allowed.deployment.state).toBe('aborted');
    expect(allowed.deployment.transitions.at(-1)).toMatchObject({
      actor: 'ines',
      reason: 'aborted: looks wrong',
    });
  });
});

const strategyArb: fc.Arbitrary<ReleaseStrategy> = fc.record(
  {
    canary: fc.record({
      hosts: fc.integer({ min: 1, max: 2 }),
      bakeSeconds: fc.integer({ min: 0, max: 600 }),
      pause: fc.boolean(),
    }),
    batchSize: fc.integer({ min: 1, max: 4 }),
    pauseBetweenBatchesSeconds: fc.integer({ min: 0, max: 300 }),
    maxFailedHosts: fc.integer({ min: 0, max: 3 }),
    progressDeadlineSeconds: fc.integer({ min: 60, max: 3600 }),
    rollback: fc.boolean(),
  },
  { requiredKeys: ['batchSize'] },
);

type Command =
  | { readonly kind: 'tick'; readonly seconds: number }
  | { readonly kind: 'claim' | 'succeed' | 'fail' | 'die' | 'skip'; readonly host: number }
  | { readonly kind: 'pause' | 'resume' | 'abort' | 'supersede' };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('tick' as const), seconds: fc.integer({ min: 1, max: 900 }) }),
  fc.record({
    kind: fc.constantFrom(
      'claim' as const,
      'succeed' as const,
      'fail' as const,
      'die' as const,
      'skip' as const,
    ),
    host: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({
    kind: fc.constantFrom('pause' as const, 'resume' as const, 'abort' as const, 'supersede' as const),
  }),
);

describe('advanceDeployment, whatever happens', () => {
  it('never starts a task twice, never exceeds a batch, keeps canary first, bake, pauses, budget and deadline', () => {
    fc.assert(
      fc.property(
        strategyArb,
        fc.integer({ min: 1, max: 12 }),
        fc.array(commandArb, { maxLength: 80 }),
        (strategy, hostCount, commands) => {
          const sim = new Simulation(deploymentOf(strategy, hostCount));
          const { plan } = sim.deployment;
          const largestStep = Math.max(0, ...plan.steps.map((s) => s.hosts.length));
          /** When each step's tasks were created, and when its last task finished. */
          const startedAt = new Map<number, number>();
          for (const command of [{ kind: 'tick', seconds: 0 } as Command, ...commands]) {
            const host = 'host' in command ? `h${((command.host - 1) % hostCount) + 1}` : '';
            switch (command.kind) {
              case 'tick':
                sim.now += command.seconds * 1000;
                break;
              case 'claim':
                sim.claim(host);
                break;
              case 'succeed':
              case 'fail':
                sim.finish(host, command.kind === 'succeed');
                break;
              case 'die':
                sim.die(host);
                break;
              case 'skip':
                sim.control('skip', host);
                break;
              case 'supersede':
                sim.deployment = supersedeDeployment(sim.deployment, 'd-0000000003', new Date(sim.now));
                break;
              default:
                sim.control(command.kind);
            }
            const failuresBefore = [...sim.tasks.values()].filter((t) => isFailedTask(t.state)).length;
            const { before, result } = sim.pass();
            const creates = [...result.tasks.values()].filter((w) => w.kind === 'create');
            const d = sim.deployment;

            // No task started twice.
            for (const count of sim.created.values()) expect(count).toBe(1);
            // Never more than a batch in flight.
            const inFlight = [...sim.tasks.values()].filter((t) => !isTerminalTask(t.state)).length;
            expect(inFlight).toBeLessThanOrEqual(largestStep);
            // Only a progressing deployment starts tasks, and only within the budget.
            if (creates.length > 0) {
              expect(['progressing', 'succeeded']).toContain(d.state === 'paused' ? 'x' : d.state);
              expect(failuresBefore).toBeLessThanOrEqual(d.failureAllowance);
              const step = sim.stepOf(creates[0]?.task.host as string);
              startedAt.set(step, sim.now);
              // Canary first, and every earlier step finished; the bake or the pause between batches respected.
              for (let earlier = 0; earlier < step; earlier++) {
                const hosts = plan.steps[earlier]?.hosts ?? [];
                for (const h of hosts)
                  expect(isTerminalTask(sim.tasks.get(h)?.state ?? 'pending')).toBe(true);
                if (earlier === step - 1) {
                  const lastDone = Math.max(
                    ...hosts.map((h) => Date.parse(sim.tasks.get(h)?.updatedAt ?? '')),
                    startedAt.get(earlier) ?? 0,
                  );
                  const wait =
                    plan.steps[earlier]?.kind === 'canary'
                      ? plan.bakeSeconds
                      : plan.pauseBetweenBatchesSeconds;
                  expect(sim.now).toBeGreaterThanOrEqual(lastDone + wait * 1000);
                }
              }
            }
            // A spent budget halts the rollout (a pause), it does not abort it.
            const failures = [...sim.tasks.values()].filter((t) => isFailedTask(t.state)).length;
            if (before.state === 'progressing' && d.state !== 'succeeded' && failures > d.failureAllowance)
              expect(['paused', 'aborted', 'superseded', 'failed']).toContain(d.state);
            // A budget pause is entered only over failures (a failed host skipped later leaves it paused
            // until someone resumes: a pause always waits for a person).
            const pausedNow =
              d.state === 'paused' && !(before.state === 'paused' && before.pauseReason === 'budget');
            if (pausedNow && d.pauseReason === 'budget') expect(failures).toBeGreaterThan(0);
            // A step never runs past its deadline while the deployment progresses.
            if (d.state === 'progressing' && d.stepStartedAt) {
              const unfinished = [...sim.tasks.values()].some((t) => !isTerminalTask(t.state));
              const from = Math.max(Date.parse(d.stepStartedAt), d.resumedAt ? Date.parse(d.resumedAt) : 0);
              if (unfinished) expect(sim.now).toBeLessThan(from + plan.progressDeadlineSeconds * 1000);
            }
            // Terminal deployments leave no task waiting to start.
            if (['aborted', 'superseded', 'failed'].includes(d.state))
              for (const task of sim.tasks.values())
                if (task.state === 'pending') expect(sim.claims.has(task.host)).toBe(true);
            // Applied to its own result, it changes nothing.
            const again = advanceDeployment({
              deployment: d,
              tasks: sim.tasks,
              claims: sim.claims,
              controls: sim.controls,
              now: new Date(sim.now),
            });
            expect(again.tasks.size).toBe(0);
            expect(again.changed).toBe(false);
          }
        },
      ),
      {
        numRuns: 300,
        // Found once: a failed host skipped while the budget pause holds.
        examples: [
          [
            { batchSize: 1 },
            1,
            [
              { kind: 'claim', host: 1 },
              { kind: 'fail', host: 1 },
              { kind: 'skip', host: 1 },
            ],
          ],
        ],
      },
    );
  });

  it('finishes every deployment when agents succeed and time goes on', () => {
    fc.assert(
      fc.property(strategyArb, fc.integer({ min: 1, max: 12 }), (strategy, hostCount) => {
        const sim = new Simulation(deploymentOf(strategy, hostCount));
        for (let round = 0; round < 5 && sim.deployment.state !== 'succeeded'; round++) {
          sim.runToEnd();
          if (sim.deployment.state === 'paused') sim.control('resume');
        }
        expect(sim.deployment.state).toBe('succeeded');
        expect(sim.created.size).toBe(hostCount);
      }),
      { numRuns: 200 },
    );
  });
});
