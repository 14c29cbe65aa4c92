import { environmentKey } from './desired-state.js';
import type { AgentRecord, CommandRun, Rejection } from './records/agent-record.js';
import type { InstanceRecord } from './records/instance-record.js';
import { CONTENT_ID } from './zk-layout.js';

/**
 * Whether a host or an instance applied one snapshot of an environment, by its own record: the one
 * reading `cairn status` and the bot's "cairn / applied" check share, so both say the same of a host.
 */

/** What a host the service tree lists for an environment did with one of its snapshots. */
export type HostApplyState = 'applied' | 'applying' | 'rejected' | 'behind' | 'failed' | 'no agent';

export interface HostApply {
  readonly host: string;
  readonly state: HostApplyState;
  /** Why, for a rejected or failed host: the step and its exit, or the agent's error. */
  readonly reason?: string;
  /** The run that refused the snapshot, for a rejected host. */
  readonly rejection?: Rejection;
  /** The commit whose files the host has on disk, when it has any. */
  readonly commit?: string;
}

/**
 * What `host` did with the snapshot whose manifest is `manifest`, by its agent's record (undefined
 * when the host runs no agent, or its agent has not reported the service yet). A rejection counts
 * while the agent still reports it for that very manifest: it keeps the previous files and does not
 * try the snapshot again until a change of settings or a new write of the host's assignment.
 */
export function hostApplyState(
  host: string,
  agent: AgentRecord | undefined,
  service: string,
  env: string,
  manifest: string,
): HostApply {
  const status = agent?.services[environmentKey(service, env)];
  if (!status) return { host, state: 'no agent' };
  const commit = status.commit !== undefined ? { commit: status.commit } : {};
  if (status.state === 'rejected' && status.rejected?.manifest === manifest) {
    const run = status.rejected.run;
    const said = run.outputTail.trim().split('\n').at(-1);
    return {
      host,
      state: 'rejected',
      reason: `${describeCommandRun(run)}${said ? `: ${said}` : ''}`,
      rejection: status.rejected,
      ...commit,
    };
  }
  if (status.state === 'failed')
    return { host, state: 'failed', reason: status.error?.message ?? 'failed', ...commit };
  if (status.manifest === manifest) return { host, state: 'applied', ...commit };
  return { host, state: status.state === 'applying' ? 'applying' : 'behind', ...commit };
}

/** "check exited 1", "reload timed out", "reload killed by SIGKILL". */
export function describeCommandRun(run: CommandRun): string {
  const how = run.timedOut
    ? 'timed out'
    : run.exitCode !== undefined
      ? `exited ${run.exitCode}`
      : run.signal !== undefined
        ? `killed by ${run.signal}`
        : 'could not start';
  return `${run.step} ${how}`;
}

/** Whether an instance serves exactly the files, by content id, that a snapshot's manifest lists. */
export function instanceServes(record: InstanceRecord, files: ReadonlyMap<string, string>): boolean {
  const served = record.files;
  return (
    Object.keys(served).length === files.size &&
    [...files].every(([path, id]) => CONTENT_ID.test(id) && served[path] === id)
  );
}
