import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleaseStrategy } from '../../core/index.js';
import type { SyncerDaemon } from '../../syncer/index.js';
import { type AgentProcess, startAgent } from '../agent/agent-fixture.js';
import { waitFor } from '../harness/index.js';
import { spawnCairn } from '../support/cairn-process.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import {
  hostNames,
  inState,
  marker,
  releasePath,
  releaseYaml,
  runsOfVersion,
  servicePath,
  serviceYaml,
  waitForDeployment,
} from './deploy-fixture.js';

const HOSTS = hostNames(4);
const STRATEGY: ReleaseStrategy = {
  canary: { hosts: 1, bakeSeconds: 1 },
  batchSize: 1,
  pauseBetweenBatchesSeconds: 2,
};

// Generous deadlines: a syncer process fetches and validates the example repository before it joins,
// which takes long on a loaded machine.
describe('a deployment when the syncer leader dies', { timeout: 400_000 }, () => {
  let f: SyncerFixture;
  let standby: SyncerDaemon | undefined;
  const agents = new Map<string, AgentProcess>();
  const agent = (host: string) => agents.get(host) as AgentProcess;

  beforeAll(async () => {
    f = await startSyncerFixture();
    await Promise.all(HOSTS.map(async (host) => agents.set(host, await startAgent(f, host))));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.close()));
    await f?.close();
  });

  it('is finished by the standby after the leader is SIGKILLed mid-rollout, with no task run twice', async () => {
    const leader = spawnCairn([
      'sync',
      '--watch',
      '--repo',
      f.repoUrl,
      '--zk',
      f.zk.connectString,
      '--session-timeout',
      '3s',
      '--poll',
      '1s',
      '--replica-id',
      'leader-process',
      '--cache-dir',
      await mkdtemp(join(tmpdir(), 'cairn-leader-')),
    ]);
    try {
      await waitFor(async () => (await f.session.children(f.layout.syncersDir())).children.length === 1, {
        description: 'the leader process joins the election',
        timeoutMs: 150_000,
      });
      standby = await f.startDaemon({ replicaId: 'standby', poll: '1s', sessionTimeout: '3s' });
      await waitFor(() => standby?.status().role === 'standby', {
        description: 'the standby',
        timeoutMs: 20_000,
      });

      await f.work.write({ [servicePath]: serviceYaml(HOSTS), [releasePath]: releaseYaml('v1', STRATEGY) });
      await f.work.commit('Add deploy-app at v1');
      await f.work.push(f.repoUrl);
      await waitForDeployment(f, 'v1', inState('succeeded'), 'v1 recorded by the leader');

      await marker(agent('deploy-03'), 'gate-v2');
      await f.work.write({ [releasePath]: releaseYaml('v2', STRATEGY) });
      await f.work.commit('Release v2');
      await f.work.push(f.repoUrl);
      await waitForDeployment(
        f,
        'v2',
        (s) => s.tasks['deploy-03']?.state === 'running',
        'batch 2 (deploy-03) runs',
      );
      leader.kill('SIGKILL');
      await waitFor(() => standby?.status().role === 'leader', {
        description: 'the standby leads',
        timeoutMs: 30_000,
      });
      await marker(agent('deploy-03'), 'gate-v2', false);
      const done = await waitForDeployment(f, 'v2', inState('succeeded'), 'the standby finishes v2');
      for (const host of HOSTS) {
        expect(done.tasks[host]).toMatchObject({ state: 'succeeded', attempt: 1 });
        expect(await runsOfVersion(agent(host), 'v2')).toBe(1);
      }
      // The pause between batches held across the failover: it derives from stored times.
      const finished = Date.parse(done.tasks['deploy-03']?.updatedAt as string);
      expect(Date.parse(done.tasks['deploy-04']?.createdAt as string)).toBeGreaterThanOrEqual(
        finished + 2000,
      );
      expect(done.deployment.transitions.filter((t) => t.state === 'succeeded')).toHaveLength(1);
    } finally {
      leader.kill('SIGKILL');
    }
  });
});
