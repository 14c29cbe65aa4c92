import { describe, expect, it } from 'vitest';
import type { AgentRecord, InstanceRecord, ServiceRecord } from '../../core/index.js';
import {
  agentRecord,
  FAILED_CHECK,
  historyRecord,
  instanceRecord,
  revision,
  serviceRecord,
  sha,
} from '../../test/bot-e2e/applied-records.js';
import {
  type AppliedCheck,
  type AppliedInput,
  environmentsOf,
  evaluateAppliedChecks,
} from './evaluate-applied.js';

const C1 = sha('c1');
const C2 = sha('c2');
const TAG_COMMIT = sha('7a');
const M1 = sha('1');
const M2 = sha('2');
const M3 = sha('3');
const FILE_A = sha('a');
const FILE_B = sha('b');
const MIRRORED = '2024-12-09T10:00:00Z';
const MINUTE = 60_000;
const AFTER = (minutes: number) => Date.parse(MIRRORED) + minutes * MINUTE;

const EDGE = serviceRecord('edge-gateway', { prod: ['edge-01', 'edge-02'], dev: ['edge-dev-01'] });
const SEARCH = serviceRecord('search-api', { prod: [] }, 'sdk');

/** Commit C1 changed edge-gateway in prod to M1. */
const EDGE_C1 = historyRecord({
  seq: 7,
  commit: C1,
  syncedAt: MIRRORED,
  snapshots: [{ service: 'edge-gateway', env: 'prod', from: M3, to: M1 }],
});

function evaluate(
  overrides: Partial<Omit<AppliedInput, 'agents'>> & { agents?: readonly AgentRecord[] },
): AppliedCheck[] {
  const { agents, ...rest } = overrides;
  return evaluateAppliedChecks({
    history: [EDGE_C1],
    services: services(EDGE, SEARCH),
    instances: new Map(),
    manifests: new Map(),
    now: AFTER(1),
    deadlineMs: 30 * MINUTE,
    ...rest,
    agents: new Map((agents ?? []).map((a) => [a.host, a])),
  });
}

function services(...records: ServiceRecord[]): Map<string, ServiceRecord> {
  return new Map(records.map((r) => [r.name, r]));
}

function only(checks: readonly AppliedCheck[]): AppliedCheck {
  expect(checks).toHaveLength(1);
  return checks[0] as AppliedCheck;
}

const states = (check: AppliedCheck) =>
  check.services.flatMap((s) => s.participants.map((p) => [s.service, p.name, p.state, p.detail]));

const edgeApplied = (host: string, manifest = M1) =>
  agentRecord(host, 'edge-gateway', 'prod', { state: 'applied', commit: C1, manifest });

describe('the applied check of a commit, per environment', () => {
  it('waits for every host the service tree lists, and is never a success before the last one reported', () => {
    const check = only(evaluate({ agents: [edgeApplied('edge-01')] }));
    expect(check).toMatchObject({
      name: 'cairn / applied (prod)',
      commit: C1,
      env: 'prod',
      mirroredAt: MIRRORED,
      deadline: '2024-12-09T10:30:00.000Z',
      verdict: { status: 'in_progress' },
      settled: false,
    });
    expect(states(check)).toEqual([
      ['edge-gateway', 'edge-01', 'applied', undefined],
      ['edge-gateway', 'edge-02', 'waiting', 'no agent reports'],
    ]);
  });

  it('succeeds once every host applied the snapshot', () => {
    const check = only(evaluate({ agents: [edgeApplied('edge-01'), edgeApplied('edge-02')] }));
    expect(check.verdict).toEqual({ status: 'completed', conclusion: 'success', reason: 'applied' });
    expect(check.settled).toBe(true);
  });

  it('says what a host that has not applied it yet is doing', () => {
    const check = only(
      evaluate({
        agents: [
          agentRecord('edge-01', 'edge-gateway', 'prod', { state: 'applying', commit: C2, manifest: M3 }),
          agentRecord('edge-02', 'edge-gateway', 'prod', {
            state: 'failed',
            commit: C2,
            manifest: M3,
            error: { code: 'OWNER_UNKNOWN', message: 'no user nginx on this host', at: MIRRORED },
          }),
        ],
      }),
    );
    expect(states(check)).toEqual([
      ['edge-gateway', 'edge-01', 'waiting', 'applying'],
      ['edge-gateway', 'edge-02', 'waiting', 'failing: no user nginx on this host'],
    ]);
    expect(check.verdict.status).toBe('in_progress');
  });

  it('fails as soon as one host rejects it, and keeps following the others until they report', () => {
    const rejection = { commit: C1, manifest: M1, run: FAILED_CHECK };
    const rejecting = agentRecord('edge-02', 'edge-gateway', 'prod', {
      state: 'rejected',
      commit: C2,
      manifest: M3,
      rejected: rejection,
    });
    const early = only(evaluate({ agents: [rejecting] }));
    expect(early.verdict).toEqual({ status: 'completed', conclusion: 'failure', reason: 'rejected' });
    expect(early.settled).toBe(false);
    const refused = early.services[0]?.participants.find((p) => p.name === 'edge-02');
    expect(refused).toEqual({
      kind: 'host',
      name: 'edge-02',
      state: 'rejected',
      detail: 'check exited 1: nginx: configuration file nginx.conf test failed',
      refused: { how: 'check exited 1', command: FAILED_CHECK.command, output: FAILED_CHECK.outputTail },
    });
    const later = only(evaluate({ agents: [rejecting, edgeApplied('edge-01')] }));
    expect(later.verdict).toMatchObject({ conclusion: 'failure' });
    expect(later.settled).toBe(true);
  });

  it('does not hold the rejection of another snapshot against this one', () => {
    const check = only(
      evaluate({
        agents: [
          edgeApplied('edge-01'),
          agentRecord('edge-02', 'edge-gateway', 'prod', {
            state: 'rejected',
            commit: C1,
            manifest: M3,
            rejected: { commit: C2, manifest: M2, run: FAILED_CHECK },
          }),
        ],
      }),
    );
    expect(states(check)[1]).toEqual(['edge-gateway', 'edge-02', 'waiting', `has ${C1.slice(0, 7)}`]);
  });

  it('times out at the deadline with who is still missing, and not before', () => {
    const before = only(evaluate({ agents: [edgeApplied('edge-01')], now: AFTER(29) }));
    expect(before.verdict.status).toBe('in_progress');
    const at = only(evaluate({ agents: [edgeApplied('edge-01')], now: AFTER(30) }));
    expect(at.verdict).toEqual({ status: 'completed', conclusion: 'timed_out', reason: 'deadline' });
    expect(at.settled).toBe(true);
    expect(states(at)[1]).toEqual(['edge-gateway', 'edge-02', 'waiting', 'no agent reports']);
  });

  it('stays a failure past the deadline when a host rejected it', () => {
    const rejecting = agentRecord('edge-02', 'edge-gateway', 'prod', {
      state: 'rejected',
      rejected: { commit: C1, manifest: M1, run: FAILED_CHECK },
    });
    const check = only(evaluate({ agents: [rejecting], now: AFTER(45) }));
    expect(check.verdict).toMatchObject({ conclusion: 'failure' });
    expect(check.settled).toBe(true);
  });

  it('is neutral, superseded, when a later commit changed the same environment first', () => {
    const edgeC2 = historyRecord({
      seq: 8,
      commit: C2,
      syncedAt: '2024-12-09T10:02:00Z',
      snapshots: [{ service: 'edge-gateway', env: 'prod', from: M1, to: M2 }],
    });
    const [first, second] = evaluate({
      history: [edgeC2, EDGE_C1],
      agents: [edgeApplied('edge-01')],
    }) as [AppliedCheck, AppliedCheck];
    expect(first.commit).toBe(C1);
    expect(first.verdict).toEqual({ status: 'completed', conclusion: 'neutral', reason: 'superseded' });
    expect(first.services[0]?.supersededBy).toEqual({ commit: C2, removed: false });
    expect(states(first)).toEqual([
      ['edge-gateway', 'edge-01', 'applied', undefined],
      ['edge-gateway', 'edge-02', 'superseded', 'no agent reports'],
    ]);
    expect(second.commit).toBe(C2);
    expect(second.verdict.status).toBe('in_progress');
  });

  it('waits for the services a later commit left alone, then is superseded rather than successful', () => {
    const both = historyRecord({
      seq: 7,
      commit: C1,
      syncedAt: MIRRORED,
      snapshots: [
        { service: 'edge-gateway', env: 'prod', from: M3, to: M1 },
        { service: 'search-api', env: 'prod', to: M2 },
      ],
    });
    const edgeAgain = historyRecord({
      seq: 8,
      commit: C2,
      syncedAt: '2024-12-09T10:02:00Z',
      snapshots: [{ service: 'edge-gateway', env: 'prod', from: M1, to: M3 }],
    });
    const search = (files: Record<string, string>) =>
      new Map([
        ['search-api/prod', [instanceRecord('search-7f3', 'search-api', 'prod', { commit: C1, files })]],
      ]);
    const manifests = new Map([[M2, new Map([['app.yaml', FILE_A]])]]);
    const waiting = evaluate({
      history: [both, edgeAgain],
      instances: search({ 'app.yaml': FILE_B }),
      manifests,
    });
    expect(waiting[0]?.verdict.status).toBe('in_progress');
    const done = evaluate({
      history: [both, edgeAgain],
      instances: search({ 'app.yaml': FILE_A }),
      manifests,
    });
    expect(done[0]?.verdict).toEqual({ status: 'completed', conclusion: 'neutral', reason: 'superseded' });
  });

  it('counts the removal of the environment by a later commit as superseding it', () => {
    const removed = historyRecord({
      seq: 8,
      commit: C2,
      syncedAt: '2024-12-09T10:02:00Z',
      snapshots: [{ service: 'edge-gateway', env: 'prod', from: M1 }],
    });
    const checks = evaluate({ history: [EDGE_C1, removed] });
    expect(checks).toHaveLength(1);
    expect(checks[0]?.services[0]?.supersededBy).toEqual({ commit: C2, removed: true });
    expect(checks[0]?.verdict).toMatchObject({ conclusion: 'neutral', reason: 'superseded' });
  });

  it('posts the check of an environment that follows release tags on the tag’s commit', () => {
    // The branch head C2 changed dev; a release tag on an older commit brought prod's new files.
    const tagged = historyRecord({
      seq: 9,
      commit: C2,
      syncedAt: MIRRORED,
      snapshots: [
        { service: 'edge-gateway', env: 'dev', from: M3, to: M2 },
        { service: 'edge-gateway', env: 'prod', from: M3, to: M1 },
      ],
      serves: { dev: revision(C2), prod: revision(TAG_COMMIT, 'v2.4.0') },
    });
    const checks = evaluate({
      history: [tagged],
      agents: [
        agentRecord('edge-dev-01', 'edge-gateway', 'dev', { state: 'applied', commit: C2, manifest: M2 }),
        agentRecord('edge-01', 'edge-gateway', 'prod', {
          state: 'applied',
          commit: TAG_COMMIT,
          manifest: M1,
        }),
      ],
    });
    expect(checks.map((c) => [c.name, c.commit, c.tag, c.verdict.status])).toEqual([
      ['cairn / applied (dev)', C2, undefined, 'completed'],
      ['cairn / applied (prod)', TAG_COMMIT, 'v2.4.0', 'in_progress'],
    ]);
  });

  it('gathers into one check what several records changed for the same tag, and a new tag supersedes it', () => {
    const v1 = (seq: number, service: string, to: string) =>
      historyRecord({
        seq,
        commit: seq === 5 ? C1 : C2,
        syncedAt: MIRRORED,
        snapshots: [{ service, env: 'prod', to }],
        serves: { prod: revision(TAG_COMMIT, 'v1.0.0') },
      });
    const checks = evaluate({ history: [v1(5, 'edge-gateway', M1), v1(6, 'search-api', M2)] });
    expect(checks).toHaveLength(1);
    expect(checks[0]?.services.map((s) => s.service)).toEqual(['edge-gateway', 'search-api']);

    const v2 = historyRecord({
      seq: 7,
      commit: C2,
      syncedAt: MIRRORED,
      snapshots: [{ service: 'edge-gateway', env: 'prod', from: M1, to: M3 }],
      serves: { prod: revision(C2, 'v1.1.0') },
    });
    const [old] = evaluate({ history: [v1(5, 'edge-gateway', M1), v2] });
    expect(old?.services[0]?.supersededBy).toEqual({ commit: C2, tag: 'v1.1.0', removed: false });
  });

  it('counts instances and hosts together: an instance applied it when it serves exactly its files', () => {
    const both = historyRecord({
      seq: 7,
      commit: C1,
      syncedAt: MIRRORED,
      snapshots: [
        { service: 'edge-gateway', env: 'prod', from: M3, to: M1 },
        { service: 'search-api', env: 'prod', from: M3, to: M2 },
      ],
    });
    const manifests = new Map([[M2, new Map([['app.yaml', FILE_A]])]]);
    const instances = (...records: InstanceRecord[]) => new Map([['search-api/prod', records]]);
    const input = {
      history: [both],
      agents: [edgeApplied('edge-01'), edgeApplied('edge-02')],
      manifests,
    };
    const waiting = only(
      evaluate({
        ...input,
        instances: instances(
          instanceRecord('search-1', 'search-api', 'prod', { commit: C1, files: { 'app.yaml': FILE_A } }),
          instanceRecord('search-2', 'search-api', 'prod', {
            commit: C2,
            files: { 'app.yaml': FILE_B },
            source: 'cache',
          }),
          instanceRecord('search-3', 'search-api', 'prod'),
        ),
      }),
    );
    expect(states(waiting)).toEqual([
      ['edge-gateway', 'edge-01', 'applied', undefined],
      ['edge-gateway', 'edge-02', 'applied', undefined],
      ['search-api', 'search-1', 'applied', undefined],
      ['search-api', 'search-2', 'waiting', `serves ${C2.slice(0, 7)} from its cache`],
      ['search-api', 'search-3', 'waiting', 'starting'],
    ]);
    expect(waiting.services[1]?.participants[0]).toMatchObject({
      kind: 'instance',
      where: 'search-api-01:8080',
    });
    expect(waiting.verdict.status).toBe('in_progress');

    const refused = only(
      evaluate({
        ...input,
        instances: instances(
          instanceRecord('search-1', 'search-api', 'prod', {
            commit: C2,
            files: { 'app.yaml': FILE_B },
            rejected: { commit: C1, reason: 'app.yaml: port must be a number' },
          }),
        ),
      }),
    );
    expect(refused.verdict).toMatchObject({ conclusion: 'failure' });
    expect(refused.services[1]?.participants[0]?.refused).toEqual({
      how: 'validation refused it',
      output: 'app.yaml: port must be a number',
    });

    const applied = only(
      evaluate({
        ...input,
        instances: instances(
          instanceRecord('search-1', 'search-api', 'prod', { commit: C1, files: { 'app.yaml': FILE_A } }),
        ),
      }),
    );
    expect(applied.verdict).toMatchObject({ conclusion: 'success' });
  });

  it('judges an instance by the commit it serves when the manifest is no longer in ZooKeeper', () => {
    const history = [
      historyRecord({
        seq: 7,
        commit: C1,
        syncedAt: MIRRORED,
        snapshots: [{ service: 'search-api', env: 'prod', to: M2 }],
      }),
    ];
    const check = only(
      evaluate({
        history,
        instances: new Map([
          ['search-api/prod', [instanceRecord('search-1', 'search-api', 'prod', { commit: C1 })]],
        ]),
      }),
    );
    expect(check.verdict).toMatchObject({ conclusion: 'success' });
  });

  it('lists no hosts for a service whose files the SDK reads, and is neutral when nothing runs there', () => {
    const sdkOnly = serviceRecord('search-api', { prod: ['search-01'] }, 'sdk');
    const history = [
      historyRecord({
        seq: 7,
        commit: C1,
        syncedAt: MIRRORED,
        snapshots: [{ service: 'search-api', env: 'prod', to: M2 }],
      }),
    ];
    const check = only(
      evaluate({ history, services: services(sdkOnly), instances: new Map([['search-api/prod', []]]) }),
    );
    expect(check.services[0]?.participants).toEqual([]);
    expect(check.verdict).toEqual({ status: 'completed', conclusion: 'neutral', reason: 'nobody' });
    expect(environmentsOf(check)).toEqual(['search-api/prod']);
  });

  it('makes no check of a commit that changed no environment’s files', () => {
    const readmeOnly = historyRecord({ seq: 7, commit: C1, syncedAt: MIRRORED, snapshots: [] });
    expect(evaluate({ history: [readmeOnly] })).toEqual([]);
  });
});
