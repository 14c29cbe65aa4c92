import { hostApplyState } from '../applied-state.js';
import { environmentKey } from '../desired-state.js';
import type { AgentRecord } from '../records/agent-record.js';
import type { HostAssignmentRecord } from '../records/host-assignment-record.js';

/** One host of a consumer that drains during deploys, as a deployment step's drain reads it. */
export interface ConsumerHost {
  readonly consumer: string;
  readonly env: string;
  readonly host: string;
  /** The host's assignment and its node's mzxid; absent when it has none. */
  readonly assignment?: { readonly record: HostAssignmentRecord; readonly mzxid: bigint };
  /** The host's agent record; absent when no agent runs there. */
  readonly agent?: AgentRecord;
}

/**
 * Whether a consumer's host applied the drain of `service`'s `hosts`: its assignment drains every
 * one of them, and its agent reports that assignment's files applied, in answer to that very write.
 * The same hosts drained again name the same files, so the manifest alone would pass a record that
 * predates the agent's last swap (a restore on disk with its reload still running, or the agent
 * killed then). An agent that does not say which write it answered (an older one) is taken at its
 * manifest.
 */
export function consumerHostDrained(service: string, hosts: readonly string[], side: ConsumerHost): boolean {
  const { consumer, env, host, assignment, agent } = side;
  if (!assignment) return false;
  const drained = assignment.record.drain?.[service] ?? [];
  if (!hosts.every((h) => drained.includes(h))) return false;
  if (hostApplyState(host, agent, consumer, env, assignment.record.manifest).state !== 'applied')
    return false;
  const answered = agent?.services[environmentKey(consumer, env)]?.assignment;
  return answered === undefined || answered === assignment.mzxid.toString();
}
