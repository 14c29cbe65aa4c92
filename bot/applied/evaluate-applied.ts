import {
  type AgentRecord,
  describeCommandRun,
  environmentKey,
  type HistoryRecord,
  hostApplyState,
  type InstanceRecord,
  instanceServes,
  type ServiceRecord,
} from '../../core/index.js';
import { appliedCheckName } from '../names.js';

/**
 * Pure: from the commits the syncer mirrored and what hosts and instances report, the state of each
 * "cairn / applied (<env>)" check — one per commit and environment whose snapshot the commit changed.
 * Nothing here reads ZooKeeper or calls GitHub; `AppliedChecks` gathers the input and posts the result.
 */

/** What ZooKeeper said when the evaluation was made. */
export interface AppliedInput {
  /** History records of the commits followed, in any order. */
  readonly history: readonly HistoryRecord[];
  /** The service tree by service; a service absent here lists no host. */
  readonly services: ReadonlyMap<string, ServiceRecord>;
  /** Agent records by host; a host absent here runs no agent (or it is not connected). */
  readonly agents: ReadonlyMap<string, AgentRecord>;
  /** The instances registered in each environment, by `environmentKey(service, env)`. */
  readonly instances: ReadonlyMap<string, readonly InstanceRecord[]>;
  /** Each manifest's files (path → content id) by the manifest's content id, where it could be read. */
  readonly manifests: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** How long after a commit was mirrored a check still waiting concludes as timed out. */
  readonly deadlineMs: number;
}

/** How a host or an instance refused a snapshot. */
export interface RefusedBy {
  /** "check exited 1", "reload timed out", "validation refused it". */
  readonly how: string;
  /** The command that refused it, for a host. */
  readonly command?: string;
  /** The end of what the command printed, or the instance's reason. */
  readonly output: string;
}

/** One host or instance, and what it did with the snapshot. */
export interface Participant {
  readonly kind: 'host' | 'instance';
  /** The host's name, or the instance's id. */
  readonly name: string;
  /** For an instance: `host:port`. */
  readonly where?: string;
  /**
   * `waiting`: has not reported this snapshot applied or rejected (yet); `superseded`: the same, in a
   * service whose snapshot a later commit replaced, so nobody waits for it any more.
   */
  readonly state: 'applied' | 'rejected' | 'waiting' | 'superseded';
  /** Why it waits ("no agent reports", "applying", "serves abc1234"), or how it refused. */
  readonly detail?: string;
  readonly refused?: RefusedBy;
}

/** A later commit that changed the same service's snapshot in the environment. */
export interface Supersession {
  readonly commit: string;
  readonly tag?: string;
  /** The environment went away with it (the service or environment was deleted). */
  readonly removed: boolean;
}

/** One service whose snapshot in the environment the commit changed. */
export interface ServiceApply {
  readonly service: string;
  /** Content id of the snapshot's manifest: what every participant must report. */
  readonly manifest: string;
  readonly supersededBy?: Supersession;
  readonly participants: readonly Participant[];
}

export type AppliedConclusion = 'success' | 'failure' | 'neutral' | 'timed_out';

export type AppliedVerdict =
  | { readonly status: 'in_progress' }
  | {
      readonly status: 'completed';
      readonly conclusion: AppliedConclusion;
      /** Why: every participant applied it, one rejected it, a later commit replaced it, nobody runs it, or the deadline passed. */
      readonly reason: 'applied' | 'rejected' | 'superseded' | 'nobody' | 'deadline';
    };

export interface AppliedCheck {
  /** "cairn / applied (prod)". */
  readonly name: string;
  /** The commit the check is posted on: the one whose files the environment serves (a tag's, if it follows tags). */
  readonly commit: string;
  readonly tag?: string;
  readonly env: string;
  /** When the syncer published the change, ISO 8601. */
  readonly mirroredAt: string;
  /** When a check still waiting times out, ISO 8601. */
  readonly deadline: string;
  readonly services: readonly ServiceApply[];
  readonly verdict: AppliedVerdict;
  /**
   * Nothing left to wait for: no participant of a service still followed is waiting, or the
   * deadline passed. A failed check keeps being updated until then.
   */
  readonly settled: boolean;
}

/** The checks the history records call for, each evaluated against what hosts and instances report. */
export function evaluateAppliedChecks(input: AppliedInput): AppliedCheck[] {
  const { checks, latest } = changesOf(input.history);
  return [...checks.values()].map((check) => evaluateCheck(check, latest, input));
}

/** The environments, by `environmentKey`, whose registered instances a check counts. */
export function environmentsOf(check: AppliedCheck): string[] {
  return check.services.map((s) => environmentKey(s.service, check.env));
}

interface ChangeOfCheck {
  readonly manifest: string;
  readonly seq: number;
}

interface CheckInProgress {
  readonly commit: string;
  readonly tag?: string;
  readonly env: string;
  readonly mirroredAt: string;
  readonly services: Map<string, ChangeOfCheck>;
}

interface LatestChange {
  readonly seq: number;
  readonly commit: string;
  readonly tag?: string;
  readonly removed: boolean;
}

/**
 * Groups the snapshot changes by the commit each environment serves and the environment: an
 * environment that follows release tags serves the tag's commit, which is where its check goes.
 * Records are read oldest first, so the latest change of each service in each environment wins.
 */
function changesOf(history: readonly HistoryRecord[]): {
  checks: Map<string, CheckInProgress>;
  latest: Map<string, LatestChange>;
} {
  const checks = new Map<string, CheckInProgress>();
  const latest = new Map<string, LatestChange>();
  for (const record of [...history].sort((a, b) => a.seq - b.seq)) {
    for (const change of record.snapshots) {
      const revision = record.environments[change.env];
      const commit = revision?.commit ?? record.commit;
      const tag = revision?.tag;
      latest.set(environmentKey(change.service, change.env), {
        seq: record.seq,
        commit,
        ...(tag !== undefined ? { tag } : {}),
        removed: change.to === undefined,
      });
      if (change.to === undefined) continue;
      const key = `${commit} ${change.env}`;
      let check = checks.get(key);
      if (!check) {
        check = {
          commit,
          ...(tag !== undefined ? { tag } : {}),
          env: change.env,
          mirroredAt: record.syncedAt,
          services: new Map(),
        };
        checks.set(key, check);
      }
      check.services.set(change.service, { manifest: change.to, seq: record.seq });
    }
  }
  return { checks, latest };
}

function evaluateCheck(
  check: CheckInProgress,
  latest: ReadonlyMap<string, LatestChange>,
  input: AppliedInput,
): AppliedCheck {
  const services: ServiceApply[] = [...check.services]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([service, change]) => {
      const last = latest.get(environmentKey(service, check.env));
      const supersededBy =
        last && last.seq > change.seq
          ? {
              commit: last.commit,
              ...(last.tag !== undefined ? { tag: last.tag } : {}),
              removed: last.removed,
            }
          : undefined;
      const participants = participantsOf(service, check, change.manifest, input).map((p) =>
        supersededBy && p.state === 'waiting' ? { ...p, state: 'superseded' as const } : p,
      );
      return { service, manifest: change.manifest, ...(supersededBy ? { supersededBy } : {}), participants };
    });
  const mirroredAtMs = Date.parse(check.mirroredAt);
  const deadlineMs = mirroredAtMs + input.deadlineMs;
  const everyone = services.flatMap((s) => s.participants);
  const waiting = everyone.filter((p) => p.state === 'waiting');
  const pastDeadline = input.now >= deadlineMs;
  let verdict: AppliedVerdict;
  if (everyone.some((p) => p.state === 'rejected'))
    verdict = { status: 'completed', conclusion: 'failure', reason: 'rejected' };
  else if (waiting.length === 0) {
    verdict = services.some((s) => s.supersededBy)
      ? { status: 'completed', conclusion: 'neutral', reason: 'superseded' }
      : everyone.length === 0
        ? { status: 'completed', conclusion: 'neutral', reason: 'nobody' }
        : { status: 'completed', conclusion: 'success', reason: 'applied' };
  } else if (pastDeadline) verdict = { status: 'completed', conclusion: 'timed_out', reason: 'deadline' };
  else verdict = { status: 'in_progress' };
  return {
    name: appliedCheckName(check.env),
    commit: check.commit,
    ...(check.tag !== undefined ? { tag: check.tag } : {}),
    env: check.env,
    mirroredAt: check.mirroredAt,
    deadline: Number.isFinite(deadlineMs) ? new Date(deadlineMs).toISOString() : check.mirroredAt,
    services,
    verdict,
    settled: waiting.length === 0 || pastDeadline,
  };
}

/**
 * The hosts the service tree lists for the environment (for services whose files agents write) and
 * the instances registered there, each with what it did with the snapshot.
 */
function participantsOf(
  service: string,
  check: CheckInProgress,
  manifest: string,
  input: AppliedInput,
): Participant[] {
  const record = input.services.get(service);
  const declared = record?.files ? (record.environments[check.env]?.hosts ?? []).map((h) => h.host) : [];
  const hosts = [...new Set(declared)].map((host): Participant => {
    const applied = hostApplyState(host, input.agents.get(host), service, check.env, manifest);
    switch (applied.state) {
      case 'applied':
        return { kind: 'host', name: host, state: 'applied' };
      case 'rejected': {
        const run = applied.rejection?.run;
        return {
          kind: 'host',
          name: host,
          state: 'rejected',
          ...(applied.reason !== undefined ? { detail: applied.reason } : {}),
          refused: run
            ? { how: describeCommandRun(run), command: run.command, output: run.outputTail }
            : { how: applied.reason ?? 'rejected', output: '' },
        };
      }
      case 'failed':
        return { kind: 'host', name: host, state: 'waiting', detail: `failing: ${applied.reason ?? ''}` };
      case 'applying':
        return { kind: 'host', name: host, state: 'waiting', detail: 'applying' };
      case 'behind':
        return {
          kind: 'host',
          name: host,
          state: 'waiting',
          detail: applied.commit ? `has ${short(applied.commit)}` : 'nothing applied yet',
        };
      default:
        return { kind: 'host', name: host, state: 'waiting', detail: 'no agent reports' };
    }
  });
  const files = input.manifests.get(manifest);
  const instances = [...(input.instances.get(environmentKey(service, check.env)) ?? [])]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((instance): Participant => {
      const where = { where: `${instance.host}${instance.port !== undefined ? `:${instance.port}` : ''}` };
      if (instance.rejected?.commit === check.commit)
        return {
          kind: 'instance',
          name: instance.id,
          ...where,
          state: 'rejected',
          detail: 'validation refused it',
          refused: { how: 'validation refused it', output: instance.rejected.reason },
        };
      // Without the manifest (collected from ZooKeeper already) the commit it serves has to do.
      const serves = files ? instanceServes(instance, files) : instance.commit === check.commit;
      if (serves) return { kind: 'instance', name: instance.id, ...where, state: 'applied' };
      return {
        kind: 'instance',
        name: instance.id,
        ...where,
        state: 'waiting',
        detail: instance.commit
          ? `serves ${short(instance.commit)}${instance.source === 'cache' ? ' from its cache' : ''}`
          : 'starting',
      };
    });
  return [...hosts, ...instances];
}

function short(commit: string): string {
  return commit.slice(0, 7);
}
