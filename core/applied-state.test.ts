import { describe, expect, it } from 'vitest';
import { describeCommandRun, hostApplyState, instanceServes } from './applied-state.js';
import type { AgentRecord, AgentServiceStatus, CommandRun } from './records/agent-record.js';
import type { InstanceRecord } from './records/instance-record.js';

const M1 = '1'.repeat(40);
const M2 = '2'.repeat(40);
const C1 = 'a'.repeat(40);
const C2 = 'b'.repeat(40);
const FILE_A = 'c'.repeat(40);
const FILE_B = 'd'.repeat(40);

const failedCheck: CommandRun = {
  step: 'check',
  command: 'nginx -t',
  exitCode: 1,
  durationMs: 40,
  outputTail: 'nginx: [emerg] unknown directive "upstreams"\nnginx: configuration file test failed\n',
  at: '2024-12-09T10:00:05Z',
};

function agent(status: Partial<AgentServiceStatus> & Pick<AgentServiceStatus, 'state'>): AgentRecord {
  return {
    host: 'edge-01',
    pid: 7,
    startedAt: '2024-12-09T09:00:00Z',
    services: {
      'edge-gateway/prod': {
        service: 'edge-gateway',
        env: 'prod',
        directory: '/etc/nginx',
        files: {},
        drift: [],
        ...status,
      },
    },
  };
}

describe('hostApplyState', () => {
  it('says a host without an agent, or whose agent has not reported the service, has none', () => {
    expect(hostApplyState('edge-01', undefined, 'edge-gateway', 'prod', M1)).toEqual({
      host: 'edge-01',
      state: 'no agent',
    });
    expect(hostApplyState('edge-01', agent({ state: 'applied' }), 'search-api', 'prod', M1).state).toBe(
      'no agent',
    );
  });

  it('counts a host applied when the snapshot on its disk is that manifest', () => {
    expect(
      hostApplyState(
        'edge-01',
        agent({ state: 'applied', commit: C1, manifest: M1 }),
        'edge-gateway',
        'prod',
        M1,
      ),
    ).toEqual({ host: 'edge-01', state: 'applied', commit: C1 });
  });

  it('reports a rejection of that manifest with the step, the exit and the last line it printed', () => {
    const rejected = { commit: C2, manifest: M2, run: failedCheck };
    const host = hostApplyState(
      'edge-01',
      agent({ state: 'rejected', commit: C1, manifest: M1, rejected }),
      'edge-gateway',
      'prod',
      M2,
    );
    expect(host).toEqual({
      host: 'edge-01',
      state: 'rejected',
      reason: 'check exited 1: nginx: configuration file test failed',
      rejection: rejected,
      commit: C1,
    });
  });

  it('does not hold a rejection of another snapshot against this one', () => {
    const rejected = { commit: C2, manifest: M2, run: failedCheck };
    expect(
      hostApplyState(
        'edge-01',
        agent({ state: 'rejected', manifest: M1, rejected }),
        'edge-gateway',
        'prod',
        M1,
      ).state,
    ).toBe('applied');
  });

  it('tells a failing agent, one applying, and one behind apart', () => {
    const error = {
      code: 'OWNER_UNKNOWN',
      message: 'no user nginx on this host',
      at: '2024-12-09T10:00:00Z',
    };
    expect(hostApplyState('edge-01', agent({ state: 'failed', error }), 'edge-gateway', 'prod', M1)).toEqual({
      host: 'edge-01',
      state: 'failed',
      reason: 'no user nginx on this host',
    });
    expect(
      hostApplyState('edge-01', agent({ state: 'applying', manifest: M2 }), 'edge-gateway', 'prod', M1).state,
    ).toBe('applying');
    expect(
      hostApplyState('edge-01', agent({ state: 'applied', manifest: M2 }), 'edge-gateway', 'prod', M1).state,
    ).toBe('behind');
  });
});

describe('describeCommandRun', () => {
  it('says how a command ended', () => {
    expect(describeCommandRun(failedCheck)).toBe('check exited 1');
    expect(describeCommandRun({ ...failedCheck, step: 'reload', exitCode: undefined, timedOut: true })).toBe(
      'reload timed out',
    );
    expect(describeCommandRun({ ...failedCheck, exitCode: undefined, signal: 'SIGKILL' })).toBe(
      'check killed by SIGKILL',
    );
    expect(describeCommandRun({ ...failedCheck, exitCode: undefined })).toBe('check could not start');
  });
});

describe('instanceServes', () => {
  const instance = (files: Record<string, string>): InstanceRecord => ({
    id: 'search-api-1',
    service: 'search-api',
    env: 'prod',
    host: 'search-01',
    pid: 9,
    startedAt: '2024-12-09T09:00:00Z',
    commit: C1,
    source: 'zookeeper',
    files,
  });
  const manifest = new Map([
    ['app.yaml', FILE_A],
    ['rules.yaml', FILE_B],
  ]);

  it('is true only for exactly the files of the manifest, by content id', () => {
    expect(instanceServes(instance({ 'app.yaml': FILE_A, 'rules.yaml': FILE_B }), manifest)).toBe(true);
    expect(instanceServes(instance({ 'app.yaml': FILE_A, 'rules.yaml': FILE_A }), manifest)).toBe(false);
    expect(instanceServes(instance({ 'app.yaml': FILE_A }), manifest)).toBe(false);
    expect(
      instanceServes(instance({ 'app.yaml': FILE_A, 'rules.yaml': FILE_B, 'extra.yaml': FILE_B }), manifest),
    ).toBe(false);
  });
});
