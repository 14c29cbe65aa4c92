import type { DeploymentControlRecord } from '../records/deployment-control-record.js';
import {
  type DeploymentRecord,
  type DeploymentState,
  isTerminalDeployment,
  MAX_REJECTED,
  MAX_TRANSITIONS,
  type PauseReason,
} from '../records/deployment-record.js';
import {
  type DeploymentTaskRecord,
  isActiveTask,
  isFailedTask,
  isTerminalTask,
  taskTransition,
} from '../records/deployment-task-record.js';
import { type SteeringGrants, type SteeringRefusal, steeringRefusal } from './steering-policy.js';

/** A control action with the number ZooKeeper gave it. */
export interface NumberedControl {
  readonly seq: number;
  readonly control: DeploymentControlRecord;
}

export interface DeploymentView {
  readonly deployment: DeploymentRecord;
  /** The tasks created so far, by host. */
  readonly tasks: ReadonlyMap<string, DeploymentTaskRecord>;
  /** Hosts whose agent holds a claim (a live session) on their task. */
  readonly claims: ReadonlySet<string>;
  /** Control actions recorded; those at or below the deployment's `controlSeq` were applied already. */
  readonly controls: readonly NumberedControl[];
  /** Who may steer, from the service record; absent, every control action applies. */
  readonly steering?: SteeringGrants;
  /**
   * Whether every consumer that drains during deploys applied the drain of the due step's hosts
   * (its agents report the assigned files): false holds the step, up to the release's deploy
   * timeout, then pauses the deployment (reason `drain`). Undefined: no consumer drains them.
   */
  readonly drainApplied?: boolean;
  readonly now: Date;
}

/** How long a step waits for the consumers' drain when the release says no deploy timeout (the agent's default). */
export const DEFAULT_DRAIN_WAIT_SECONDS = 600;

export interface TaskWrite {
  /** `create` for a task that does not exist yet; `update` for one read (written with its version). */
  readonly kind: 'create' | 'update';
  readonly task: DeploymentTaskRecord;
}

export interface Advance {
  readonly deployment: DeploymentRecord;
  /** By host. */
  readonly tasks: ReadonlyMap<string, TaskWrite>;
  /** Whether the deployment record changed. */
  readonly changed: boolean;
  /** Control actions rejected in this pass, because the policy does not allow their actor. */
  readonly rejected: readonly (NumberedControl & { readonly refusal: SteeringRefusal })[];
  /** When to look again though nothing else changes (a bake, a pause between batches, a deadline), ms since epoch. */
  readonly wakeAt?: number;
}

export const CONTROLLER_ACTOR = 'controller';

/**
 * The controller's one decision, pure: from a deployment, its tasks, the live claims, the control
 * actions and the time, the next state and the task writes. Applied again to its own result it
 * writes nothing more, so a controller can run it from whatever it finds after any crash.
 *
 * Canary first, then batches; a step starts only when every task started before it is finished,
 * and not before the bake time or the pause between batches (both from stored times); a spent
 * failure budget pauses (halts) the deployment; a step past the progress deadline fails it. A task
 * whose agent's claim is gone is lost. Once the deployment is aborted, superseded or failed, tasks
 * not yet claimed are cancelled and those in flight finish; no new one starts.
 */
export function advanceDeployment(view: DeploymentView): Advance {
  return new Advancing(view).run();
}

class Advancing {
  private d: DeploymentRecord;
  private readonly original: DeploymentRecord;
  private readonly tasks: Map<string, DeploymentTaskRecord>;
  private readonly writes = new Map<string, TaskWrite>();
  private readonly view: DeploymentView;
  private readonly at: string;
  private readonly nowMs: number;
  private wakeAt: number | undefined;
  private readonly rejected: (NumberedControl & { readonly refusal: SteeringRefusal })[] = [];

  constructor(view: DeploymentView) {
    this.view = view;
    this.d = view.deployment;
    this.original = view.deployment;
    this.tasks = new Map(view.tasks);
    this.at = view.now.toISOString();
    this.nowMs = view.now.getTime();
  }

  run(): Advance {
    for (const { seq, control } of [...this.view.controls].sort((a, b) => a.seq - b.seq)) {
      if (seq <= this.d.controlSeq) continue;
      const refusal = steeringRefusal(this.view.steering, this.d.env, control.action, control.by);
      if (refusal) this.reject({ seq, control }, refusal);
      else this.applyControl(control);
      this.d = { ...this.d, controlSeq: seq };
    }
    this.markLost();
    if (this.d.state === 'pending') this.transition('progressing', CONTROLLER_ACTOR);
    if (this.d.state === 'progressing') this.progress();
    if (this.d.state === 'aborted' || this.d.state === 'superseded' || this.d.state === 'failed')
      this.cancelUnclaimed();
    if (
      isTerminalDeployment(this.d.state) &&
      !this.d.settled &&
      [...this.tasks.values()].every((task) => isTerminalTask(task.state))
    )
      this.d = { ...this.d, settled: true };
    return {
      deployment: this.d,
      tasks: this.writes,
      changed: this.d !== this.original,
      rejected: this.rejected,
      ...(this.wakeAt !== undefined ? { wakeAt: this.wakeAt } : {}),
    };
  }

  /** Writing the control node by hand does not bypass the policy: the action is kept, marked rejected. */
  private reject({ seq, control }: NumberedControl, refusal: SteeringRefusal): void {
    this.rejected.push({ seq, control, refusal });
    const entry = { seq, ...control, rejectedAt: this.at, rejection: refusal.message };
    this.d = { ...this.d, rejected: [...(this.d.rejected ?? []), entry].slice(-MAX_REJECTED) };
  }

  private applyControl(control: DeploymentControlRecord): void {
    const { state } = this.d;
    const why = control.reason ? `: ${control.reason}` : '';
    switch (control.action) {
      case 'pause':
        if (state === 'progressing' || state === 'pending')
          this.transition('paused', control.by, `paused${why}`, 'manual');
        return;
      case 'resume': {
        if (state !== 'paused') return;
        // A resume waits for the drain afresh, or not at all after a drain pause.
        const { drainDeadline: _w, ...rest } = this.d;
        this.d = {
          ...rest,
          resumedAt: this.at,
          // A resume after a budget halt accepts the failures so far; one more halts again.
          ...(this.d.pauseReason === 'budget'
            ? { failureAllowance: Math.max(this.d.failureAllowance, this.failures()) }
            : {}),
          // A resume after a drain pause starts the step without waiting for the drain again.
          ...(this.d.pauseReason === 'drain' ? { drainWaived: this.d.step } : {}),
        };
        this.transition('progressing', control.by, `resumed${why}`);
        return;
      }
      case 'abort':
        if (!isTerminalDeployment(state)) this.transition('aborted', control.by, `aborted${why}`);
        return;
      case 'skip':
        if (control.host) this.skip(control.host, control.by);
        return;
      case 'retry':
        this.retry(control.by, why);
        return;
    }
  }

  /** A host not reached yet is created skipped; a pending or failed task becomes skipped; one in flight finishes. */
  private skip(host: string, by: string): void {
    if (!this.d.plan.steps.some((step) => step.hosts.includes(host))) return;
    const task = this.tasks.get(host);
    if (!task) {
      if (!this.d.skipped.includes(host)) this.d = { ...this.d, skipped: [...this.d.skipped, host] };
      return;
    }
    const claimed = this.view.claims.has(host);
    if ((task.state === 'pending' && !claimed) || isFailedTask(task.state))
      this.write('update', taskTransition(task, 'skipped', by, this.at));
  }

  /** Failed and lost tasks run again (a new attempt); a failed or halted deployment progresses again. */
  private retry(by: string, why: string): void {
    if (this.d.state === 'superseded' || this.d.state === 'aborted') return;
    let retried = 0;
    for (const task of this.tasks.values()) {
      if (!isFailedTask(task.state)) continue;
      retried++;
      const { failure: _f, exitCode: _e, durationMs: _d, claimedBy: _c, message: _m, ...rest } = task;
      this.write('update', taskTransition(rest, 'pending', by, this.at, { attempt: task.attempt + 1 }));
    }
    if (this.d.state === 'failed' || this.d.state === 'paused' || (this.d.state === 'succeeded' && retried)) {
      const { pauseReason: _p, reason: _r, settled: _s, ...rest } = this.d;
      this.d = { ...rest, resumedAt: this.at };
      this.transition('progressing', by, `retried ${retried} host(s)${why}`);
    }
  }

  private markLost(): void {
    for (const task of this.tasks.values()) {
      if (isActiveTask(task.state) && !this.view.claims.has(task.host))
        this.write(
          'update',
          taskTransition(task, 'lost', CONTROLLER_ACTOR, this.at, {
            message: `its agent's session ended while the task was ${task.state}`,
          }),
        );
    }
  }

  private cancelUnclaimed(): void {
    for (const task of this.tasks.values()) {
      if (task.state === 'pending' && !this.view.claims.has(task.host))
        this.write(
          'update',
          taskTransition(task, 'cancelled', CONTROLLER_ACTOR, this.at, {
            message: `the deployment was ${this.d.state} before the task started`,
          }),
        );
    }
  }

  private progress(): void {
    const { plan } = this.d;
    for (;;) {
      if (this.failures() > this.d.failureAllowance) {
        this.transition(
          'paused',
          CONTROLLER_ACTOR,
          `${this.failures()} host(s) failed, more than the budget of ${this.d.failureAllowance}: halted`,
          'budget',
        );
        return;
      }
      const step = plan.steps[this.d.step];
      if (!step) {
        this.transition('succeeded', CONTROLLER_ACTOR, 'no hosts to deploy');
        return;
      }
      if (this.d.stepStartedAt === undefined) {
        const notBefore = this.d.nextStepAt ? Date.parse(this.d.nextStepAt) : 0;
        if (this.nowMs < notBefore) {
          this.wake(notBefore);
          return;
        }
        if (!this.drained()) return;
        for (const host of step.hosts) {
          if (this.tasks.has(host)) continue;
          const skipped = this.d.skipped.includes(host);
          const task: DeploymentTaskRecord = {
            host,
            state: skipped ? 'skipped' : 'pending',
            attempt: 1,
            createdAt: this.at,
            updatedAt: this.at,
            transitions: [{ at: this.at, actor: CONTROLLER_ACTOR, state: skipped ? 'skipped' : 'pending' }],
          };
          this.write('create', task);
        }
        const { nextStepAt: _n, ...rest } = this.d;
        this.d = { ...rest, stepStartedAt: this.at };
        this.record('progressing', CONTROLLER_ACTOR, `${step.kind} ${this.stepLabel()} started`);
      }
      const unfinished = [...this.tasks.values()].filter((task) => !isTerminalTask(task.state));
      if (unfinished.length > 0) {
        const from = Math.max(
          Date.parse(this.d.stepStartedAt as string),
          this.d.resumedAt ? Date.parse(this.d.resumedAt) : 0,
        );
        const deadline = from + plan.progressDeadlineSeconds * 1000;
        if (this.nowMs >= deadline) {
          this.transition(
            'failed',
            CONTROLLER_ACTOR,
            `${step.kind} ${this.stepLabel()} did not finish within ${plan.progressDeadlineSeconds} s (${unfinished.map((t) => t.host).join(', ')})`,
          );
          return;
        }
        this.wake(deadline);
        return;
      }
      if (this.failures() > this.d.failureAllowance) continue;
      // Finished when its last task finished, as stored: the same time whichever controller looks.
      const doneAt = Math.min(
        this.nowMs,
        Math.max(
          Date.parse(this.d.stepStartedAt as string),
          ...step.hosts.map((host) => Date.parse(this.tasks.get(host)?.updatedAt ?? this.at)),
        ),
      );
      if (this.d.step >= plan.steps.length - 1) {
        const failed = this.failures();
        this.transition(
          'succeeded',
          CONTROLLER_ACTOR,
          failed > 0 ? `done, ${failed} host(s) failed within the budget` : 'every host deployed',
        );
        return;
      }
      const wait = step.kind === 'canary' ? plan.bakeSeconds : plan.pauseBetweenBatchesSeconds;
      const { stepStartedAt: _s, ...rest } = this.d;
      this.d = { ...rest, step: this.d.step + 1, nextStepAt: new Date(doneAt + wait * 1000).toISOString() };
      if (step.kind === 'canary' && plan.pauseAfterCanary) {
        this.transition('paused', CONTROLLER_ACTOR, 'the canary succeeded: resume to continue', 'canary');
        return;
      }
    }
  }

  /**
   * Whether the due step may start as far as the drain goes: once the consumers applied it, or an
   * operator resumed past it. Meanwhile the wait's deadline is stored, so a controller that takes
   * over waits no longer than the first did; past it, the deployment pauses.
   */
  private drained(): boolean {
    const { drainDeadline, ...rest } = this.d;
    if (this.view.drainApplied !== false || this.d.drainWaived === this.d.step) {
      if (drainDeadline !== undefined) this.d = rest;
      return true;
    }
    const waitSeconds = this.d.release.manifest.deploy.timeoutSeconds ?? DEFAULT_DRAIN_WAIT_SECONDS;
    if (drainDeadline === undefined) {
      const deadline = this.nowMs + waitSeconds * 1000;
      this.d = { ...this.d, drainDeadline: new Date(deadline).toISOString() };
      this.wake(deadline);
      return false;
    }
    if (this.nowMs < Date.parse(drainDeadline)) {
      this.wake(Date.parse(drainDeadline));
      return false;
    }
    this.d = rest;
    this.transition(
      'paused',
      CONTROLLER_ACTOR,
      `the consumers that drain did not apply the drain of step ${this.stepLabel()} within ${waitSeconds} s: resume to deploy it without waiting`,
      'drain',
    );
    return false;
  }

  private stepLabel(): string {
    return `${this.d.step + 1}/${this.d.plan.steps.length}`;
  }

  private failures(): number {
    let count = 0;
    for (const task of this.tasks.values()) if (isFailedTask(task.state)) count++;
    return count;
  }

  private write(kind: TaskWrite['kind'], task: DeploymentTaskRecord): void {
    const existing = this.writes.get(task.host);
    this.writes.set(task.host, { kind: existing?.kind ?? kind, task });
    this.tasks.set(task.host, task);
  }

  private wake(at: number): void {
    this.wakeAt = this.wakeAt === undefined ? at : Math.min(this.wakeAt, at);
  }

  private transition(state: DeploymentState, actor: string, reason?: string, pause?: PauseReason): void {
    const { pauseReason: _p, reason: _r, ...rest } = this.d;
    this.d = {
      ...rest,
      state,
      ...(pause ? { pauseReason: pause } : {}),
      ...(reason && state !== 'progressing' ? { reason } : {}),
    };
    this.record(state, actor, reason);
  }

  private record(state: DeploymentState, actor: string, reason?: string): void {
    this.d = {
      ...this.d,
      transitions: [
        ...this.d.transitions,
        { at: this.at, actor, state, step: this.d.step, ...(reason ? { reason } : {}) },
      ].slice(-MAX_TRANSITIONS),
    };
  }
}

/** The deployment, superseded by a newer release: tasks in flight finish, no new one starts. */
export function supersedeDeployment(deployment: DeploymentRecord, by: string, now: Date): DeploymentRecord {
  if (isTerminalDeployment(deployment.state)) return deployment;
  const at = now.toISOString();
  const { pauseReason: _p, ...rest } = deployment;
  const reason = `superseded by ${by}`;
  return {
    ...rest,
    state: 'superseded',
    reason,
    transitions: [
      ...deployment.transitions,
      { at, actor: CONTROLLER_ACTOR, state: 'superseded' as const, step: deployment.step, reason },
    ].slice(-MAX_TRANSITIONS),
  };
}
