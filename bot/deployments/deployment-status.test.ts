import { describe, expect, it } from 'vitest';
import { type DeploymentRecord, newDeployment } from '../../core/index.js';
import { DESCRIPTION_LIMIT, deploymentStatusOf } from './deployment-status.js';

const pending = newDeployment({
  id: 'd-0000000004',
  service: 'search-api',
  env: 'prod',
  release: {
    version: 'v2.15.0',
    commit: 'c'.repeat(40),
    author: { name: 'Ada', email: 'ada@northwind.example' },
    approvals: [],
    manifest: {
      apiVersion: 'cairn/v1',
      version: 'v2.15.0',
      deploy: { command: 'deploy.sh' },
      strategy: { canary: { hosts: 1 }, batchSize: 3 },
    },
  },
  hosts: ['a', 'b', 'c', 'd'].map((host) => ({ host })),
  now: new Date('2026-03-01T10:00:00Z'),
  actor: 'controller',
});
const as = (fields: Partial<DeploymentRecord>): DeploymentRecord => ({ ...pending, ...fields });

describe('deploymentStatusOf', () => {
  it('maps each deployment state to the GitHub deployment state', () => {
    expect(deploymentStatusOf(pending)).toEqual({
      state: 'queued',
      description: 'v2.15.0 waits to start',
      final: false,
    });
    expect(deploymentStatusOf(as({ state: 'progressing' }))).toEqual({
      state: 'in_progress',
      description: 'v2.15.0: canary (step 1 of 2)',
      final: false,
    });
    expect(deploymentStatusOf(as({ state: 'progressing', step: 1 })).description).toBe(
      'v2.15.0: batch (step 2 of 2)',
    );
    expect(deploymentStatusOf(as({ state: 'succeeded', step: 1 }))).toMatchObject({
      state: 'success',
      final: true,
    });
    expect(deploymentStatusOf(as({ state: 'failed', reason: '2 hosts failed, 1 allowed' }))).toEqual({
      state: 'failure',
      description: 'v2.15.0 failed: 2 hosts failed, 1 allowed',
      final: true,
    });
    expect(deploymentStatusOf(as({ state: 'aborted', reason: 'by ada' }))).toMatchObject({
      state: 'failure',
      description: 'v2.15.0 aborted: by ada',
    });
    expect(deploymentStatusOf(as({ state: 'superseded' }))).toMatchObject({ state: 'inactive', final: true });
  });

  it('keeps a paused deployment in progress, saying why it waits', () => {
    expect(deploymentStatusOf(as({ state: 'paused', pauseReason: 'budget', step: 1 }))).toEqual({
      state: 'in_progress',
      description: 'v2.15.0 paused (budget) at batch (step 2 of 2)',
      final: false,
    });
  });

  it('cuts a description to what GitHub keeps', () => {
    const status = deploymentStatusOf(as({ state: 'failed', reason: 'x'.repeat(500) }));
    expect(status.description).toHaveLength(DESCRIPTION_LIMIT);
    expect(status.description.endsWith('…')).toBe(true);
  });
});
