import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSession, resolveZooKeeperEndpoint, ZK_OPEN_ACL, type ZkSession } from '../../core/index.js';
import { CairnClient } from '../../sdk/index.js';
import { resolveSyncerConfig, SyncerDaemon } from '../../syncer/index.js';
import { type AgentProcess, startAgent } from '../agent/agent-fixture.js';
import { waitFor } from '../harness/index.js';
import { runCliCaptured } from '../support/run-cli.js';
import { quietLogger, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import {
  ENV,
  inState,
  marker,
  releasePath,
  releaseYaml,
  runsOfVersion,
  SERVICE,
  servicePath,
  serviceYaml,
  waitForDeployment,
} from './deploy-fixture.js';

const ROOT = '/locked';
const HOSTS = ['deploy-01', 'deploy-02'];

// Every part with its own role's credentials, on a root no one else may read: a syncer daemon, two
// agent processes, an SDK instance and an operator steering a rollout.
describe('Cairn end to end with ZooKeeper access control on', { timeout: 300_000 }, () => {
  let f: SyncerFixture;
  let dir: string;
  let daemon: SyncerDaemon;
  let operator: ZkSession;
  const agents: AgentProcess[] = [];
  const file = (user: string) => join(dir, `${user}.auth`);
  const as = (user: string): NodeJS.ProcessEnv => ({
    CAIRN_ZK: f.zk.connectString,
    CAIRN_ZK_ROOT: ROOT,
    CAIRN_ZK_AUTH_FILE: file(user),
  });
  /** The fixture's helpers, reading as the operator: the fixture's own session is locked out. */
  const reader = () => ({ session: operator, layout: f.layout }) as unknown as SyncerFixture;
  const release = async (version: string) => {
    await f.work.write({
      [releasePath]: releaseYaml(version, { canary: { hosts: 1, bakeSeconds: 1 }, batchSize: 1 }),
    });
    await f.work.commit(`Release ${version}`);
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
  };

  beforeAll(async () => {
    f = await startSyncerFixture({ root: ROOT });
    dir = await mkdtemp(join(tmpdir(), 'cairn-acl-e2e-'));
    const init = await runCliCaptured(
      ['acl', 'init', '--out-dir', dir, ...HOSTS.flatMap((host) => ['--host', host])],
      { CAIRN_ZK: f.zk.connectString, CAIRN_ZK_ROOT: ROOT },
    );
    expect(init.code, init.stderr).toBe(0);
    operator = await connectSession(resolveZooKeeperEndpoint({}, as('cairn-operator')));
    daemon = new SyncerDaemon(
      {
        ...resolveSyncerConfig(
          {
            repo: f.repoUrl,
            zk: f.zk.connectString,
            root: ROOT,
            zkAuthFile: file('cairn-syncer'),
            poll: '1h',
            sessionTimeout: '4s',
            replicaId: 'acl-test',
            cacheDir: await mkdtemp(join(tmpdir(), 'cairn-acl-cache-')),
          },
          {},
          { hostname: 'test', pid: 0 },
        ),
        // The leader looks for ACLs changed by hand on every request after this.
        aclAuditIntervalMs: 200,
      },
      quietLogger,
    );
    await daemon.start();
    for (const host of HOSTS)
      agents.push(await startAgent(f, host, ['--root', ROOT, '--zk-auth-file', file(`agent-${host}`)]));
    await f.work.write({
      [servicePath]: serviceYaml(HOSTS),
      [releasePath]: releaseYaml('v1', { batchSize: 1 }),
    });
    await f.work.commit('Add deploy-app, released at v1');
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
  }, 180_000);

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.close()));
    await daemon?.close();
    await operator?.close();
    await f?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('mirrors, serves an SDK instance, rolls out a release an operator pauses and resumes, and every node it made has its policy ACL', async () => {
    await waitForDeployment(reader(), 'v1', inState('succeeded'), 'v1 recorded as deployed');

    const sdkCredentials = (await readFile(file('cairn-sdk'), 'utf8'))
      .split('\n')
      .find((l) => l.startsWith('cairn-sdk:'));
    const cairn = new CairnClient({
      zk: f.zk.connectString,
      root: ROOT,
      auth: sdkCredentials as string,
      sessionTimeoutMs: 4000,
      service: 'recommender',
      env: 'dev',
    });
    try {
      const config = await cairn.config({ instance: { host: 'rec-dev-01', port: 8080 } });
      expect(config.files()).toContain('application.yaml');
      await waitFor(async () => (await operator.exists(config.instancePath as string)) !== undefined, {
        description: 'the SDK instance registered',
        timeoutMs: 60_000,
      });

      // deploy-02 holds its deploy until the gate goes: the operator pauses meanwhile.
      const [canary, second] = agents as [AgentProcess, AgentProcess];
      await marker(second, 'gate-v2');
      await release('v2');
      await waitFor(async () => (await runsOfVersion(second, 'v2')) === 1, {
        description: 'deploy-02 running v2',
        timeoutMs: 120_000,
      });
      const pause = await runCliCaptured(['deploy', 'pause', SERVICE, ENV, '--reason', 'look first'], {
        ...as('cairn-operator'),
        CAIRN_USER: 'ops-ada',
      });
      expect(pause.code, pause.stderr).toBe(0);
      await waitForDeployment(reader(), 'v2', inState('paused'), 'v2 paused by the operator');
      await marker(second, 'gate-v2', false);
      const resume = await runCliCaptured(['deploy', 'resume', SERVICE, ENV], {
        ...as('cairn-operator'),
        CAIRN_USER: 'ops-ada',
      });
      expect(resume.code, resume.stderr).toBe(0);
      const done = await waitForDeployment(reader(), 'v2', inState('succeeded'), 'v2 rolled out');
      expect(Object.values(done.tasks).map((task) => task.state)).toEqual(['succeeded', 'succeeded']);
      expect(await runsOfVersion(canary, 'v2')).toBe(1);

      // Everything the syncer, the agents, the SDK and the operator created has its policy's ACL.
      const check = await runCliCaptured(['acl', 'check', '--format', 'json'], as('cairn-syncer'));
      expect(JSON.parse(check.stdout)).toMatchObject({ controlled: true, drift: [] });
      expect(check.code).toBe(0);

      // An ACL opened by hand: the leader closes it again on its next pass.
      const syncer = await connectSession(resolveZooKeeperEndpoint({}, as('cairn-syncer')));
      try {
        await syncer.setAcl(f.layout.release(SERVICE, ENV), ZK_OPEN_ACL);
        await waitFor(
          async () => {
            await daemon.syncNow();
            const again = await runCliCaptured(['acl', 'check', '--format', 'json'], as('cairn-syncer'));
            return again.code === 0;
          },
          { description: 'the leader repairing the ACL', timeoutMs: 60_000 },
        );
      } finally {
        await syncer.close();
      }
    } finally {
      await cairn.close();
    }
  });
});
