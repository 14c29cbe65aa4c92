import { describe, expect, it } from 'vitest';
import { type DeploymentRecord, newDeployment } from '../../core/index.js';
import { formatDeploymentStatus } from './format-deployment.js';

const deployment: DeploymentRecord = newDeployment({
  id: 'd-0000000002',
  service: 'search-api',
  env: 'prod',
  release: {
    version: 'v2',
    commit: 'a'.repeat(40),
    author: { name: 'Ada', email: 'ada@example.com' },
    approvals: ['grace'],
    manifest: {
      apiVersion: 'cairn/v1',
      version: 'v2',
      deploy: { command: 'true' },
      strategy: { canary: { hosts: 1, bakeSeconds: 0 }, batchSize: 1 },
    },
  },
  hosts: [{ host: 'h1' }, { host: 'h2' }],
  previousVersion: 'v1',
  now: new Date('2026-03-01T10:00:00.000Z'),
  actor: 'controller',
});

describe('formatDeploymentStatus', () => {
  it('says a step waits for the drain of its hosts, and until when', () => {
    const waiting = { ...deployment, drainDeadline: '2026-03-01T10:10:00.000Z' };
    const text = formatDeploymentStatus({ deployment: waiting, tasks: {}, claims: [] });
    expect(text).toContain(
      'step 1 waits for the services that drain its hosts to apply the drain, until 2026-03-01T10:10:00.000Z',
    );
    expect(formatDeploymentStatus({ deployment, tasks: {}, claims: [] })).not.toContain(
      'waits for the services',
    );
  });

  it('says nothing of the wait once the deployment paused for it', () => {
    const paused = {
      ...deployment,
      state: 'paused' as const,
      pauseReason: 'drain' as const,
      drainDeadline: '2026-03-01T10:10:00.000Z',
    };
    const text = formatDeploymentStatus({ deployment: paused, tasks: {}, claims: [] });
    expect(text).toContain('paused (drain)');
    expect(text).not.toContain('waits for the services');
  });
});
