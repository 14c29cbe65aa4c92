import { describe, expect, it } from 'vitest';
import type { DeploymentRecord } from '../records/deployment-record.js';
import type { DeploymentTaskRecord, TaskState } from '../records/deployment-task-record.js';
import type { EnvironmentPointer, SnapshotRef } from '../records/environment-pointer.js';
import { advanceDeployment } from './advance-deployment.js';
import { configChanged, configToRollOut, hostAssignmentsOf, pinnedSnapshotsOf } from './config-rollout.js';
import { newDeployment } from './new-deployment.js';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const snapshot = (letter: string): SnapshotRef => ({
  manifest: letter.repeat(40),
  revision: {
    commit: letter.repeat(40),
    author: { name: 'Ada', email: 'ada@example.com' },
    message: `commit ${letter}`,
    time: '2026-03-01T09:00:00.000Z',
  },
});
const A = snapshot('a');
const B = snapshot('b');
const C = snapshot('c');
const HOSTS = ['h1', 'h2', 'h3', 'h4'];

const pointer = (served: SnapshotRef, baseline?: SnapshotRef, rollout = true): EnvironmentPointer => ({
  manifest: served.manifest,
  revision: served.revision,
  files: 1,
  bytes: 10,
  ...(rollout ? { rollout: baseline ? { baseline } : {} } : {}),
});

function deploymentOf(config: DeploymentRecord['config']): DeploymentRecord {
  return newDeployment({
    id: 'd-0000000002',
    service: 'recommender',
    env: 'prod',
    release: {
      version: 'v1',
      commit: 'e'.repeat(40),
      author: { name: 'Ada', email: 'ada@example.com' },
      approvals: [],
      manifest: {
        apiVersion: 'cairn/v1',
        version: 'v1',
        deploy: { command: 'true' },
        strategy: { canary: { hosts: 1, bakeSeconds: 0 }, batchSize: 3 },
      },
    },
    ...(config ? { config } : {}),
    configOnly: true,
    hosts: HOSTS.map((host) => ({ host })),
    now: new Date(T0),
    actor: 'controller',
  });
}

const task = (host: string, state: TaskState): DeploymentTaskRecord => ({
  host,
  state,
  attempt: 1,
  createdAt: new Date(T0).toISOString(),
  updatedAt: new Date(T0).toISOString(),
  transitions: [],
});
const manifests = (assignments: Map<string, SnapshotRef>) =>
  Object.fromEntries([...assignments].map(([host, s]) => [host, s.manifest[0]]));

describe('the configuration a deployment rolls out', () => {
  it('is none when the environment does not ride the rollout', () => {
    expect(configToRollOut(pointer(B, A, false), undefined)).toBeUndefined();
    expect(configChanged(pointer(B, A, false), deploymentOf({ target: A }))).toBe(false);
  });

  it('starts from the baseline the syncer kept, then from what the last rollout left', () => {
    expect(configToRollOut(pointer(B, A), undefined)).toEqual({ target: B, previous: A });
    const succeeded = { ...deploymentOf({ target: B, previous: A }), state: 'succeeded' as const };
    expect(configToRollOut(pointer(C, A), succeeded)).toEqual({ target: C, previous: B });
    // A rollout that did not finish leaves its own previous snapshot as what every host may return to.
    const aborted = { ...deploymentOf({ target: B, previous: A }), state: 'aborted' as const };
    expect(configToRollOut(pointer(C, A), aborted)).toEqual({ target: C, previous: A });
  });

  it('changes when the pointer names a snapshot the newest deployment does not roll out', () => {
    expect(configChanged(pointer(B, A), deploymentOf({ target: B, previous: A }))).toBe(false);
    expect(configChanged(pointer(C, A), deploymentOf({ target: B, previous: A }))).toBe(true);
    // Riding the rollout is new: only a change held at the baseline needs a deployment.
    expect(configChanged(pointer(B), deploymentOf(undefined))).toBe(false);
    expect(configChanged(pointer(B, A), deploymentOf(undefined))).toBe(true);
    expect(configChanged(pointer(B, B), deploymentOf(undefined))).toBe(false);
  });
});

describe('the snapshot each host is assigned', () => {
  it('is the new one for the hosts the rollout reached, the previous one for the others', () => {
    const deployment = deploymentOf({ target: B, previous: A });
    const canary = advanceDeployment({
      deployment,
      tasks: new Map(),
      claims: new Set(),
      controls: [],
      now: new Date(T0),
    });
    const tasks = new Map([...canary.tasks].map(([host, write]) => [host, write.task]));
    expect(manifests(hostAssignmentsOf(canary.deployment, tasks, HOSTS))).toEqual({
      h1: 'b',
      h2: 'a',
      h3: 'a',
      h4: 'a',
    });
  });

  it('keeps skipped and cancelled hosts on the previous snapshot, and returns every host to it on abort', () => {
    const deployment = {
      ...deploymentOf({ target: B, previous: A }),
      state: 'progressing' as const,
      step: 1,
    };
    const tasks = new Map([
      ['h1', task('h1', 'succeeded')],
      ['h2', task('h2', 'skipped')],
      ['h3', task('h3', 'cancelled')],
      ['h4', task('h4', 'failed')],
    ]);
    expect(manifests(hostAssignmentsOf(deployment, tasks, HOSTS))).toEqual({
      h1: 'b',
      h2: 'a',
      h3: 'a',
      h4: 'b',
    });
    const aborted = { ...deployment, state: 'aborted' as const };
    expect(manifests(hostAssignmentsOf(aborted, tasks, HOSTS))).toEqual({
      h1: 'a',
      h2: 'a',
      h3: 'a',
      h4: 'a',
    });
  });

  it('gives a host added after the rollout succeeded the new snapshot, and none without a previous one', () => {
    const done = { ...deploymentOf({ target: B }), state: 'succeeded' as const };
    const tasks = new Map(HOSTS.map((h) => [h, task(h, 'succeeded')]));
    expect(manifests(hostAssignmentsOf(done, tasks, [...HOSTS, 'h5']))).toMatchObject({ h5: 'b' });
    const started = { ...deploymentOf({ target: B }), state: 'progressing' as const };
    const assigned = hostAssignmentsOf(started, new Map([['h1', task('h1', 'running')]]), HOSTS);
    expect(manifests(assigned)).toEqual({ h1: 'b' });
    expect(hostAssignmentsOf(deploymentOf(undefined), tasks, HOSTS).size).toBe(0);
  });

  it('pins every snapshot a host or the baseline still serves, but not the newest', () => {
    const assignments = new Map([
      ['h1', B],
      ['h2', A],
    ]);
    expect(pinnedSnapshotsOf(assignments, pointer(B, C), ['h1', 'h2', 'h3'])).toEqual([
      A.manifest,
      C.manifest,
    ]);
    // Once every host has an assignment, nobody reads the baseline.
    expect(pinnedSnapshotsOf(assignments, pointer(B, C), ['h1', 'h2'])).toEqual([A.manifest]);
    expect(pinnedSnapshotsOf(new Map([['h1', B]]), pointer(B), ['h1'])).toEqual([]);
  });
});
