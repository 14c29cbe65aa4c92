import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_CHUNK_BYTES, LOG_CHUNKS_KEPT, type ReleaseStrategy } from '../../core/index.js';
import type { SyncerDaemon } from '../../syncer/index.js';
import { type AgentProcess, startAgent } from '../agent/agent-fixture.js';
import { waitFor } from '../harness/index.js';
import { runCliCaptured } from '../support/run-cli.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import {
  ENV,
  hostNames,
  inState,
  marker,
  releasePath,
  releaseYaml,
  runsOfVersion,
  SERVICE,
  servicePath,
  serviceYaml,
  status,
  waitForDeployment,
} from './deploy-fixture.js';

const HOSTS = hostNames(10);
/** Canary 1, then batches of 3: [01] [02 03 04] [05 06 07] [08 09 10]. */
const STRATEGY: ReleaseStrategy = { canary: { hosts: 1, bakeSeconds: 1 }, batchSize: 3, maxFailedHosts: 1 };

// Each test waits on ten agent processes: generous deadlines for a loaded machine.
describe('deployments: ten agents, canary 1 then batches of 3', { timeout: 300_000 }, () => {
  let f: SyncerFixture;
  let daemon: SyncerDaemon;
  const agents = new Map<string, AgentProcess>();
  const agent = (host: string) => agents.get(host) as AgentProcess;
  const cli = (...args: string[]) =>
    runCliCaptured(['deploy', ...args, '--zk', f.zk.connectString], { CAIRN_USER: 'ops-ada' });

  const release = async (version: string, strategy: ReleaseStrategy = STRATEGY, deploy = {}) => {
    await f.work.write({ [releasePath]: releaseYaml(version, strategy, deploy) });
    await f.work.commit(`Release ${version}`);
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
  };

  beforeAll(async () => {
    f = await startSyncerFixture();
    daemon = await f.startDaemon({ replicaId: 'deploy-test', poll: '1h', sessionTimeout: '4s' });
    await Promise.all(HOSTS.map(async (host) => agents.set(host, await startAgent(f, host))));
    await f.work.write({ [servicePath]: serviceYaml(HOSTS), [releasePath]: releaseYaml('v1', STRATEGY) });
    await f.work.commit('Add deploy-app, released at v1');
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.close()));
    await f?.close();
  });

  it('records the first release it sees as already deployed, and runs nothing', async () => {
    const first = await waitForDeployment(f, 'v1', inState('succeeded'), 'v1 recorded');
    expect(first.deployment.reason).toMatch(/first release seen/);
    expect(Object.keys(first.tasks)).toEqual([]);
    for (const host of HOSTS) expect(await runsOfVersion(agent(host), 'v1')).toBe(0);
  });

  it('rolls a new release out: the canary first, a bake, then batches of 3, each host once', async () => {
    await release('v2');
    const done = await waitForDeployment(f, 'v2', inState('succeeded'), 'v2 deployed everywhere');
    const { deployment, tasks } = done;
    expect(deployment.plan.steps.map((s) => s.hosts)).toEqual([
      ['deploy-01'],
      ['deploy-02', 'deploy-03', 'deploy-04'],
      ['deploy-05', 'deploy-06', 'deploy-07'],
      ['deploy-08', 'deploy-09', 'deploy-10'],
    ]);
    expect(deployment.previousVersion).toBe('v1');
    expect(deployment.release.commit).toBe(await f.work.head());
    const canaryDone = Date.parse(tasks['deploy-01']?.updatedAt as string);
    // The batches start after the canary finished and baked one second.
    for (const host of HOSTS.slice(1))
      expect(Date.parse(tasks[host]?.createdAt as string)).toBeGreaterThanOrEqual(canaryDone + 1000);
    // A batch starts only when the one before it finished.
    const lastOf = (hosts: string[]) =>
      Math.max(...hosts.map((h) => Date.parse(tasks[h]?.updatedAt as string)));
    expect(Date.parse(tasks['deploy-05']?.createdAt as string)).toBeGreaterThanOrEqual(
      lastOf(['deploy-02', 'deploy-03', 'deploy-04']),
    );
    for (const host of HOSTS) {
      expect(tasks[host]).toMatchObject({ state: 'succeeded', attempt: 1, exitCode: 0 });
      expect(await runsOfVersion(agent(host), 'v2')).toBe(1);
    }
    const log = await cli('log', SERVICE, ENV, 'deploy-03');
    expect(log.stdout).toContain('deployed');
  });

  it('tolerates a failure within the budget, halts at the one beyond it, and goes on when resumed', async () => {
    await marker(agent('deploy-03'), 'fail-v3');
    await marker(agent('deploy-06'), 'fail-v3');
    await release('v3');
    const halted = await waitForDeployment(f, 'v3', inState('paused'), 'v3 halted by its failure budget');
    expect(halted.deployment.pauseReason).toBe('budget');
    expect(halted.tasks['deploy-03']).toMatchObject({ state: 'failed', failure: 'exit', exitCode: 3 });
    expect(halted.tasks['deploy-06']).toMatchObject({ state: 'failed', failure: 'exit', exitCode: 3 });
    // The batch after the second failure never started.
    for (const host of ['deploy-08', 'deploy-09', 'deploy-10']) expect(halted.tasks[host]).toBeUndefined();
    const resumed = await cli('resume', SERVICE, ENV, '--reason', 'known flaky disk on 03 and 06');
    expect(resumed.code).toBe(0);
    const done = await waitForDeployment(f, 'v3', inState('succeeded'), 'v3 finished after the resume');
    for (const host of ['deploy-08', 'deploy-09', 'deploy-10'])
      expect(done.tasks[host]?.state).toBe('succeeded');
    expect(done.deployment.transitions).toContainEqual(
      expect.objectContaining({
        actor: 'ops-ada',
        state: 'progressing',
        reason: 'resumed: known flaky disk on 03 and 06',
      }),
    );
    const text = await cli('status', SERVICE, ENV);
    expect(text.stdout).toContain('deploy-03  failed (exit 3)');
  });

  it('pauses: tasks in flight finish, nothing new starts until resumed', async () => {
    await marker(agent('deploy-01'), 'gate-v4');
    await release('v4', { ...STRATEGY, maxFailedHosts: 0 });
    await waitForDeployment(f, 'v4', (s) => s.tasks['deploy-01']?.state === 'running', 'the v4 canary runs');
    expect((await cli('pause', SERVICE, ENV, '--reason', 'watching the canary')).code).toBe(0);
    await waitForDeployment(f, 'v4', inState('paused'), 'v4 paused');
    await marker(agent('deploy-01'), 'gate-v4', false);
    const paused = await waitForDeployment(
      f,
      'v4',
      (s) => s.tasks['deploy-01']?.state === 'succeeded',
      'the canary finishes while paused',
    );
    expect(paused.deployment).toMatchObject({ state: 'paused', pauseReason: 'manual' });
    const resumedAt = Date.now();
    await cli('resume', SERVICE, ENV);
    const done = await waitForDeployment(f, 'v4', inState('succeeded'), 'v4 finished after the resume');
    // Nothing started while it was paused.
    for (const host of HOSTS.slice(1))
      expect(Date.parse(done.tasks[host]?.createdAt as string)).toBeGreaterThanOrEqual(resumedAt - 1000);
  });

  it('skips a host: its task is recorded skipped and its deploy never runs', async () => {
    await marker(agent('deploy-01'), 'gate-v5');
    await release('v5');
    await waitForDeployment(f, 'v5', (s) => s.tasks['deploy-01']?.state === 'running', 'the v5 canary runs');
    const skipped = await cli('skip', 'deploy-09', SERVICE, ENV, '--reason', 'host in repair');
    expect(skipped.code).toBe(0);
    expect((await cli('skip', 'nowhere-01', SERVICE, ENV)).code).toBe(2);
    await marker(agent('deploy-01'), 'gate-v5', false);
    const done = await waitForDeployment(f, 'v5', inState('succeeded'), 'v5 finished');
    expect(done.tasks['deploy-09']?.state).toBe('skipped');
    expect(await runsOfVersion(agent('deploy-09'), 'v5')).toBe(0);
    expect(await runsOfVersion(agent('deploy-10'), 'v5')).toBe(1);
  });

  it('aborts: the task in flight finishes, no other starts', async () => {
    await marker(agent('deploy-01'), 'gate-v6');
    await release('v6');
    await waitForDeployment(f, 'v6', (s) => s.tasks['deploy-01']?.state === 'running', 'the v6 canary runs');
    expect((await cli('abort', SERVICE, ENV, '--reason', 'wrong build')).code).toBe(0);
    await waitForDeployment(f, 'v6', inState('aborted'), 'v6 aborted');
    await marker(agent('deploy-01'), 'gate-v6', false);
    const done = await waitForDeployment(
      f,
      'v6',
      (s) => s.tasks['deploy-01']?.state === 'succeeded' && s.deployment.settled === true,
      'the v6 canary finishes',
    );
    expect(Object.keys(done.tasks)).toEqual(['deploy-01']);
    expect(done.deployment.reason).toBe('aborted: wrong build');
    const refused = await cli('resume', SERVICE, ENV);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is aborted: only a paused deployment resumes');
  });

  it('marks the task of an agent killed mid-deploy lost as soon as its session ends, and never runs it again', async () => {
    await marker(agent('deploy-01'), 'gate-v7');
    await release('v7');
    await waitForDeployment(f, 'v7', (s) => s.tasks['deploy-01']?.state === 'running', 'the v7 canary runs');
    await agent('deploy-01').kill('SIGKILL');
    const killedAt = Date.now();
    const lost = await waitForDeployment(
      f,
      'v7',
      (s) => s.tasks['deploy-01']?.state === 'lost',
      'the task is lost',
    );
    // The agents' session timeout is 4 s: lost once it ends (plus the server's tick and a loaded
    // machine's delays), long before the deploy's 60 s timeout.
    expect(Date.now() - killedAt).toBeLessThan(25_000);
    expect(lost.tasks['deploy-01']?.message).toMatch(/session ended/);
    await marker(agent('deploy-01'), 'gate-v7', false);
    await agent('deploy-01').restart();
    // The budget of one failed host allows the rest to go on.
    const done = await waitForDeployment(f, 'v7', inState('succeeded'), 'v7 finished without the lost host');
    expect(done.tasks['deploy-10']?.state).toBe('succeeded');
    expect(await runsOfVersion(agent('deploy-01'), 'v7')).toBe(1);
  });

  it('kills a deploy that hangs at its timeout and records the host failed (timeout)', async () => {
    await marker(agent('deploy-02'), 'hang-v8');
    await release('v8', { batchSize: 3, maxFailedHosts: 1 }, { timeoutSeconds: 2 });
    const done = await waitForDeployment(
      f,
      'v8',
      inState('succeeded'),
      'v8 finished with one host timed out',
    );
    expect(done.tasks['deploy-02']).toMatchObject({ state: 'failed', failure: 'timeout' });
    expect(done.tasks['deploy-02']?.durationMs).toBeLessThan(10_000);
    await marker(agent('deploy-02'), 'hang-v8', false);
    expect((await cli('retry', SERVICE, ENV, '--reason', 'the hang is fixed')).code).toBe(0);
    const retried = await waitForDeployment(
      f,
      'v8',
      (s) => s.tasks['deploy-02']?.state === 'succeeded' && s.deployment.state === 'succeeded',
      'deploy-02 retried',
    );
    expect(retried.tasks['deploy-02']?.attempt).toBe(2);
    expect(await runsOfVersion(agent('deploy-02'), 'v8')).toBe(2);
  });

  it('keeps a bounded tail of a 10 MB log', async () => {
    await marker(agent('deploy-01'), 'big-v9');
    await release('v9', { batchSize: 10 });
    const { id } = (await waitForDeployment(f, 'v9', inState('succeeded'), 'v9 finished')).deployment;
    const folder = f.layout.deploymentLog(SERVICE, ENV, id, 'deploy-01');
    const chunks = (await f.session.children(folder)).children;
    expect(chunks.length).toBeLessThanOrEqual(LOG_CHUNKS_KEPT);
    for (const chunk of chunks)
      expect((await f.session.get(f.layout.child(folder, chunk))).data.length).toBeLessThanOrEqual(
        LOG_CHUNK_BYTES,
      );
    const log = await cli('log', SERVICE, ENV, 'deploy-01');
    expect(log.stdout.length).toBeLessThanOrEqual(LOG_CHUNK_BYTES * LOG_CHUNKS_KEPT);
    expect(log.stdout).toContain('END-OF-LOG');
    expect(log.stdout.trimEnd().endsWith('deployed')).toBe(true);
  });

  it('lets a newer release supersede a running deployment: in flight finishes, nothing new starts', async () => {
    await marker(agent('deploy-01'), 'gate-v10');
    await release('v10');
    await waitForDeployment(
      f,
      'v10',
      (s) => s.tasks['deploy-01']?.state === 'running',
      'the v10 canary runs',
    );
    const superseded = (await status(f))?.deployment.id as string;
    await release('v11', { batchSize: 5 });
    await marker(agent('deploy-01'), 'gate-v10', false);
    await waitForDeployment(f, 'v11', inState('succeeded'), 'v11 deployed everywhere');
    const old = await waitFor(
      async () => {
        const s = await runCliCaptured([
          'deploy',
          'status',
          SERVICE,
          ENV,
          '--deployment',
          superseded,
          '--format',
          'json',
          '--zk',
          f.zk.connectString,
        ]);
        const parsed = JSON.parse(s.stdout);
        return parsed.tasks['deploy-01']?.state === 'succeeded' ? parsed : undefined;
      },
      { description: 'the superseded canary finishes', timeoutMs: 60_000 },
    );
    expect(old.deployment.state).toBe('superseded');
    expect(Object.keys(old.tasks)).toEqual(['deploy-01']);
    for (const host of HOSTS) expect(await runsOfVersion(agent(host), 'v11')).toBe(1);
    expect(await runsOfVersion(agent('deploy-05'), 'v10')).toBe(0);
  });

  it('rolls back by a revert: cairn rollback prepares it on a branch, and its merge deploys the previous version', async () => {
    const prepared = await runCliCaptured(['rollback', SERVICE, ENV, '--repo', f.work.dir]);
    expect(prepared.stderr).toBe('');
    expect(prepared.code).toBe(0);
    expect(prepared.stdout).toContain(`so ${SERVICE} in ${ENV} goes back from v11 to v10`);
    const branch = /Prepared (\S+):/.exec(prepared.stdout)?.[1] as string;
    expect(branch).toBe('rollback/deploy-app-dev-v11');
    expect(await f.work.git('log', '-1', '--format=%s', branch)).toBe('Revert "Release v11"');
    await f.work.git('switch', 'main');
    await f.work.git('merge', '--ff-only', branch);
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
    const done = await waitForDeployment(f, 'v10', inState('succeeded'), 'the rollback to v10 deployed');
    expect(done.deployment.previousVersion).toBe('v11');
    // Git and the hosts agree.
    expect(await f.work.git('show', `HEAD:${releasePath}`)).toContain('version: v10');
    for (const host of HOSTS) expect(done.tasks[host]?.state).toBe('succeeded');
  });
});
