import { describe, expect, it } from 'vitest';
import type { AgentRecord, AgentServiceStatus } from '../records/agent-record.js';
import type { HostAssignmentRecord } from '../records/host-assignment-record.js';
import { type ConsumerHost, consumerHostDrained } from './drain-applied.js';

const DRAINED = 'd'.repeat(40);
const RESTORED = 'e'.repeat(40);
const HOST = 'gw-01';

function assignment(
  manifest: string,
  drain: Record<string, string[]>,
  mzxid: bigint,
): ConsumerHost['assignment'] {
  const record: HostAssignmentRecord = {
    host: HOST,
    manifest,
    revision: {
      commit: 'c'.repeat(40),
      author: { name: 'Ada', email: 'ada@example.com' },
      message: 'm',
      time: '2026-12-05T10:00:00.000Z',
    },
    drain,
    at: '2026-12-05T10:00:00.000Z',
  };
  return { record, mzxid };
}

function agent(status: Partial<AgentServiceStatus>): AgentRecord {
  return {
    host: HOST,
    pid: 4242,
    startedAt: '2026-12-05T09:00:00.000Z',
    services: {
      'gateway/prod': {
        service: 'gateway',
        env: 'prod',
        directory: '/etc/gateway',
        state: 'applied',
        files: {},
        drift: [],
        ...status,
      },
    },
  };
}

/** The gateway's host, assigned the drain of api's h1 at mzxid 20, with `status` from its agent. */
function side(
  status?: Partial<AgentServiceStatus>,
  drain = assignment(DRAINED, { api: ['h1'] }, 20n),
): ConsumerHost {
  return {
    consumer: 'gateway',
    env: 'prod',
    host: HOST,
    ...(drain ? { assignment: drain } : {}),
    ...(status ? { agent: agent(status) } : {}),
  };
}

describe('consumerHostDrained', () => {
  it('holds once the agent answered this write of an assignment that drains every host of the step', () => {
    expect(consumerHostDrained('api', ['h1'], side({ manifest: DRAINED, assignment: '20' }))).toBe(true);
  });

  it('does not hold for a record that answered an earlier write naming the same files', () => {
    // A restore on disk, its reload running: the record still names the last drain's files.
    expect(consumerHostDrained('api', ['h1'], side({ manifest: DRAINED, assignment: '12' }))).toBe(false);
    expect(
      consumerHostDrained('api', ['h1'], side({ manifest: DRAINED, assignment: '12', state: 'applying' })),
    ).toBe(false);
  });

  it('takes an agent that does not say which write it answered at its manifest', () => {
    expect(consumerHostDrained('api', ['h1'], side({ manifest: DRAINED }))).toBe(true);
    expect(consumerHostDrained('api', ['h1'], side({ manifest: RESTORED }))).toBe(false);
  });

  it('does not hold without an assignment, or with one that leaves a host of the step out', () => {
    const none = { consumer: 'gateway', env: 'prod', host: HOST, agent: agent({ manifest: DRAINED }) };
    expect(consumerHostDrained('api', ['h1'], none)).toBe(false);
    const partial = assignment(DRAINED, { api: ['h1'] }, 20n);
    expect(
      consumerHostDrained('api', ['h1', 'h2'], side({ manifest: DRAINED, assignment: '20' }, partial)),
    ).toBe(false);
    const otherService = assignment(DRAINED, { search: ['h1'] }, 20n);
    expect(
      consumerHostDrained('api', ['h1'], side({ manifest: DRAINED, assignment: '20' }, otherService)),
    ).toBe(false);
  });

  it('does not hold without an agent, or with one that applied other files, rejected these or failed', () => {
    expect(consumerHostDrained('api', ['h1'], side(undefined))).toBe(false);
    expect(consumerHostDrained('api', ['h1'], side({ manifest: RESTORED, assignment: '20' }))).toBe(false);
    const run = {
      step: 'check',
      command: 'nginx -t',
      exitCode: 1,
      durationMs: 5,
      outputTail: '',
      at: 'now',
    } as const;
    expect(
      consumerHostDrained(
        'api',
        ['h1'],
        side({
          state: 'rejected',
          manifest: RESTORED,
          assignment: '12',
          rejected: { commit: 'c'.repeat(40), manifest: DRAINED, run },
        }),
      ),
    ).toBe(false);
    expect(
      consumerHostDrained(
        'api',
        ['h1'],
        side({
          state: 'failed',
          manifest: DRAINED,
          assignment: '20',
          error: { code: 'X', message: 'x', at: 'now' },
        }),
      ),
    ).toBe(false);
  });
});
