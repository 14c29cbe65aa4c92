import { describe, expect, it } from 'vitest';
import { newDeployment } from '../deployments/new-deployment.js';
import { decodeDeploymentClaimRecord, encodeDeploymentClaimRecord } from './deployment-claim-record.js';
import { decodeDeploymentControlRecord, encodeDeploymentControlRecord } from './deployment-control-record.js';
import { decodeLogChunk, encodeLogChunks, LOG_CHUNK_BYTES, LOG_CHUNKS_KEPT } from './deployment-log-chunk.js';
import { decodeDeploymentRecord, encodeDeploymentRecord } from './deployment-record.js';
import {
  type DeploymentTaskRecord,
  decodeDeploymentTaskRecord,
  encodeDeploymentTaskRecord,
} from './deployment-task-record.js';
import { CorruptRecordError } from './record-fields.js';

const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

function corrupt(decode: (data: Uint8Array, path: string) => unknown, value: unknown): CorruptRecordError {
  try {
    decode(bytes(value), '/cairn/deployments/x');
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptRecordError);
    expect((error as CorruptRecordError).code).toBe('CORRUPT_RECORD');
    return error as CorruptRecordError;
  }
  throw new Error('decoded what it should refuse');
}

const deployment = newDeployment({
  id: 'd-0000000004',
  service: 'search-api',
  env: 'prod',
  release: {
    version: 'v2.15.0',
    commit: 'c'.repeat(40),
    author: { name: 'Ada', email: 'ada@northwind.example' },
    approvals: ['grace'],
    manifest: {
      apiVersion: 'cairn/v1',
      version: 'v2.15.0',
      deploy: {
        command: 'deploy.sh',
        healthCheck: { command: 'curl -f localhost/healthz', timeoutSeconds: 30 },
      },
      strategy: { canary: { hosts: 1, bakeSeconds: 60 }, batchSize: 3, maxFailedHosts: 1 },
    },
  },
  hosts: ['a', 'b', 'c', 'd', 'e'].map((host) => ({ host })),
  previousVersion: 'v2.14.0',
  now: new Date('2026-03-01T10:00:00Z'),
  actor: 'controller',
});

describe('the deployment record', () => {
  it('round-trips, with the plan the strategy implies', () => {
    expect(decodeDeploymentRecord(encodeDeploymentRecord(deployment))).toEqual(deployment);
    expect(deployment.plan.steps).toEqual([
      { kind: 'canary', hosts: ['a'] },
      { kind: 'batch', hosts: ['b', 'c', 'd'] },
      { kind: 'batch', hosts: ['e'] },
    ]);
  });

  it('round-trips the configuration it rolls out, and refuses a target that is not content', () => {
    const revision = {
      commit: 'e'.repeat(40),
      author: { name: 'Ada', email: 'ada@northwind.example' },
      message: 'Tune ranking',
      time: '2026-03-01T09:00:00.000Z',
    };
    const riding = {
      ...deployment,
      config: {
        target: { manifest: '1'.repeat(40), revision },
        previous: { manifest: '2'.repeat(40), revision },
      },
      configOnly: true,
    };
    expect(decodeDeploymentRecord(encodeDeploymentRecord(riding))).toEqual(riding);
    const json = JSON.parse(Buffer.from(encodeDeploymentRecord(riding)).toString());
    expect(
      corrupt(decodeDeploymentRecord, { ...json, config: { target: { manifest: 'x', revision } } }).message,
    ).toMatch(/config\.target\.manifest/);
  });

  it('round-trips a wait for the drain and a drain pause, and refuses a waived step that is not a number', () => {
    const waiting = { ...deployment, drainDeadline: '2026-03-01T10:10:00.000Z' };
    expect(decodeDeploymentRecord(encodeDeploymentRecord(waiting))).toEqual(waiting);
    const paused = { ...deployment, state: 'paused' as const, pauseReason: 'drain' as const, drainWaived: 1 };
    expect(decodeDeploymentRecord(encodeDeploymentRecord(paused))).toEqual(paused);
    const json = JSON.parse(Buffer.from(encodeDeploymentRecord(paused)).toString());
    expect(corrupt(decodeDeploymentRecord, { ...json, drainWaived: 'one' }).message).toMatch(/drainWaived/);
    expect(corrupt(decodeDeploymentRecord, { ...json, pauseReason: 'lunch' }).message).toMatch(/pauseReason/);
  });

  it('refuses an unknown state, a step past the plan and a bad id', () => {
    const json = JSON.parse(Buffer.from(encodeDeploymentRecord(deployment)).toString());
    expect(corrupt(decodeDeploymentRecord, { ...json, state: 'running' }).message).toMatch(
      /state must be one of/,
    );
    expect(corrupt(decodeDeploymentRecord, { ...json, step: 9 }).message).toMatch(/past the last step/);
    expect(corrupt(decodeDeploymentRecord, { ...json, id: '4' }).message).toMatch(/id must match/);
    expect(corrupt(decodeDeploymentRecord, 'not json').message).toMatch(/not JSON/);
  });
});

describe('the task, claim and control records', () => {
  const task: DeploymentTaskRecord = {
    host: 'a',
    state: 'failed',
    attempt: 1,
    createdAt: '2026-03-01T10:00:00Z',
    updatedAt: '2026-03-01T10:01:00Z',
    claimedBy: '0x1',
    failure: 'timeout',
    durationMs: 60000,
    transitions: [{ at: '2026-03-01T10:00:00Z', actor: 'controller', state: 'pending' }],
  };

  it('round-trip', () => {
    expect(decodeDeploymentTaskRecord(encodeDeploymentTaskRecord(task))).toEqual(task);
    const claim = { host: 'a', session: '0x1', pid: 42, at: '2026-03-01T10:00:00Z' };
    expect(decodeDeploymentClaimRecord(encodeDeploymentClaimRecord(claim))).toEqual(claim);
    const control = {
      action: 'skip' as const,
      host: 'a',
      by: 'ada',
      at: '2026-03-01T10:00:00Z',
      reason: 'disk',
    };
    expect(decodeDeploymentControlRecord(encodeDeploymentControlRecord(control))).toEqual(control);
    const fromComment = {
      action: 'pause' as const,
      by: 'ada',
      at: '2026-03-01T10:00:00Z',
      source: {
        kind: 'github-comment' as const,
        commentId: 7,
        url: 'https://github.com/o/r/pull/3#issuecomment-7',
      },
    };
    expect(decodeDeploymentControlRecord(encodeDeploymentControlRecord(fromComment))).toEqual(fromComment);
  });

  it('refuse an unknown task state or failure, and a skip without a host', () => {
    expect(corrupt(decodeDeploymentTaskRecord, { ...task, state: 'done' }).message).toMatch(/state/);
    expect(corrupt(decodeDeploymentTaskRecord, { ...task, failure: 'oom' }).message).toMatch(/failure/);
    expect(corrupt(decodeDeploymentControlRecord, { action: 'skip', by: 'ada', at: 'now' }).message).toMatch(
      /host is required/,
    );
    expect(
      corrupt(decodeDeploymentControlRecord, { action: 'explode', by: 'ada', at: 'now' }).message,
    ).toMatch(/action must be one of/);
    const source = { kind: 'email', commentId: 7, url: 'x' };
    expect(
      corrupt(decodeDeploymentControlRecord, { action: 'pause', by: 'ada', at: 'now', source }).message,
    ).toMatch(/kind must be github-comment/);
    expect(
      corrupt(decodeDeploymentControlRecord, {
        action: 'pause',
        by: 'ada',
        at: 'now',
        source: { ...source, kind: 'github-comment', commentId: 0 },
      }).message,
    ).toMatch(/commentId/);
  });
});

describe('the log chunks', () => {
  it('keep only the tail the kept chunks hold, each far below jute.maxbuffer', () => {
    const log = Buffer.alloc(10 * 1024 * 1024, 'x');
    log.write('the end\n', log.length - 8);
    const chunks = encodeLogChunks(log);
    expect(chunks).toHaveLength(LOG_CHUNKS_KEPT);
    expect(chunks.every((c) => c.byteLength === LOG_CHUNK_BYTES)).toBe(true);
    expect(
      Buffer.from(chunks.at(-1) as Uint8Array)
        .toString()
        .endsWith('the end\n'),
    ).toBe(true);
    expect(encodeLogChunks(Buffer.from('short'))).toHaveLength(1);
    expect(() => decodeLogChunk(Buffer.alloc(LOG_CHUNK_BYTES + 1), '/x')).toThrow(CorruptRecordError);
  });
});
