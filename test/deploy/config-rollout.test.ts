import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DeploymentNotFoundError,
  type DeploymentState,
  decodeEnvironmentPointer,
  decodeHostAssignmentRecord,
  decodePinRecord,
  type ReleaseStrategy,
  readDeploymentStatus,
  readStatus,
  resolveDeployment,
  statusHasFindings,
  type ZkSession,
} from '../../core/index.js';
import { connect, type ServiceConfig } from '../../sdk/index.js';
import type { SyncerDaemon } from '../../syncer/index.js';
import { type AgentProcess, startAgent } from '../agent/agent-fixture.js';
import { waitFor } from '../harness/index.js';
import { runCliCaptured } from '../support/run-cli.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { readRenewing } from './deploy-fixture.js';

const SERVICE = 'config-app';
const ENV = 'dev';
const HOSTS = ['cfg-01', 'cfg-02', 'cfg-03'];
/** The canary, a pause after it, then the two others in one batch. */
const STRATEGY: ReleaseStrategy = { canary: { hosts: 1, bakeSeconds: 0, pause: true }, batchSize: 2 };

const serviceYaml = [
  'apiVersion: cairn/v1',
  'description: A service whose configuration rides its release.',
  'owners: [team:platform]',
  'files:',
  '  directory: /srv/config-app',
  'environments:',
  '  dev:',
  '    configRollout: with-release',
  '    hosts:',
  ...HOSTS.map((host) => `      - host: ${host}`),
  '',
].join('\n');
/** The deploy command leaves a trace: a change of configuration alone must not run it. */
const releaseYaml = [
  'apiVersion: cairn/v1',
  'version: v1',
  'deploy:',
  '  command: echo "$CAIRN_VERSION" >> deploys.log',
  '  timeoutSeconds: 60',
  '  healthCheck:',
  '    command: test -f srv/config-app/application.yaml',
  '    timeoutSeconds: 10',
  `strategy: ${JSON.stringify(STRATEGY)}`,
  '',
].join('\n');
const configPath = `services/${SERVICE}/config/application.yaml`;

// Three agent processes and their SDK instances on a loaded machine: generous deadlines.
describe('configuration riding the release: canary, batches, abort', { timeout: 300_000 }, () => {
  let f: SyncerFixture;
  let daemon: SyncerDaemon;
  const agents = new Map<string, AgentProcess>();
  const instances = new Map<string, ServiceConfig>();
  const cli = (...args: string[]) =>
    runCliCaptured(['deploy', ...args, '--zk', f.zk.connectString], { CAIRN_USER: 'ops-ada' });

  const commitConfig = async (greeting: string) => {
    await f.work.write({ [configPath]: `greeting: ${greeting}\n` });
    await f.work.commit(`Greet with ${greeting}`);
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
  };
  const fileOn = (host: string) =>
    readFile(join((agents.get(host) as AgentProcess).prefix, 'srv/config-app/application.yaml'), 'utf8')
      .then((text) => /greeting: (\w+)/.exec(text)?.[1])
      .catch(() => undefined);
  const sdkOn = (host: string) =>
    (instances.get(host) as ServiceConfig).get<{ greeting: string }>('application.yaml').greeting;
  /** What each host serves, through its files and through the SDK: `host=file/sdk`. */
  const served = async () =>
    Promise.all(HOSTS.map(async (host) => `${host}=${await fileOn(host)}/${sdkOn(host)}`));
  const waitForServed = (expected: string[], description: string) =>
    waitFor(async () => ((await served()).join() === expected.join() ? true : undefined), {
      description,
      timeoutMs: 120_000,
      intervalMs: 100,
    }).catch(async (error) => {
      throw new Error(`${(error as Error).message}; hosts serve ${(await served()).join(' ')}`);
    });
  /** The newest deployment of the environment, as `cairn deploy status` reads it. */
  const read = <T>(how: (session: ZkSession) => Promise<T>) => readRenewing(f, how);
  /** The newest deployment of the environment, as `cairn deploy status` reads it. */
  const newest = async () => {
    try {
      return await read(async (session) => {
        const ref = await resolveDeployment(session, f.layout, { service: SERVICE, env: ENV });
        return (await readDeploymentStatus(session, f.layout, ref)).deployment;
      });
    } catch (error) {
      if (error instanceof DeploymentNotFoundError) return undefined; // none yet
      throw error;
    }
  };
  const waitForDeployment = (id: string, state: DeploymentState, description: string) =>
    waitFor(
      async () => {
        const d = await newest();
        return d?.id === id && d.state === state ? d : undefined;
      },
      { description, timeoutMs: 120_000, intervalMs: 200 },
    );
  const pointerManifest = async () =>
    decodeEnvironmentPointer((await read((s) => s.get(f.layout.environment(SERVICE, ENV)))).data).manifest;
  const pinned = async () => {
    const node = await read((s) => s.getIfExists(f.layout.configRolloutPin(SERVICE, ENV)));
    return node ? decodePinRecord(node.data).snapshots : [];
  };

  beforeAll(async () => {
    f = await startSyncerFixture();
    daemon = await f.startDaemon({ replicaId: 'config-rollout-test', poll: '1h', sessionTimeout: '4s' });
    await Promise.all(HOSTS.map(async (host) => agents.set(host, await startAgent(f, host))));
    await f.work.write({
      [`services/${SERVICE}/service.yaml`]: serviceYaml,
      [`services/${SERVICE}/releases/${ENV}.yaml`]: releaseYaml,
      [configPath]: 'greeting: one\n',
    });
    await f.work.commit('Add config-app, released at v1');
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
    for (const host of HOSTS)
      instances.set(
        host,
        await connect({
          zk: f.zk.connectString,
          service: SERVICE,
          env: ENV,
          instance: { host },
          connectTimeoutMs: 30_000,
        }),
      );
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...instances.values()].map((cfg) => cfg.close()));
    await Promise.all([...agents.values()].map((a) => a.close()));
    await f?.close();
  });

  it('serves the first configuration everywhere at once: nothing was rolled out before it', async () => {
    await waitForServed(
      HOSTS.map((h) => `${h}=one/one`),
      'every host serves the first configuration',
    );
  });

  it('gives a change to the canary first (files and SDK), the other hosts keeping the previous one', async () => {
    const before = await pointerManifest();
    await commitConfig('two');
    const paused = await waitForDeployment(
      'd-0000000002',
      'paused',
      'the configuration rollout paused after its canary',
    );
    expect(paused).toMatchObject({ configOnly: true, pauseReason: 'canary' });
    expect(paused.config?.previous?.manifest).toBe(before);
    await waitForServed(['cfg-01=two/two', 'cfg-02=one/one', 'cfg-03=one/one'], 'the canary serves two');
    // cairn status judges each host against what the rollout lets it serve: the others are held, not behind.
    const previousCommit = await f.work.git('rev-parse', 'HEAD~1');
    const held = { state: 'applied', heldAt: previousCommit };
    await waitFor(
      async () => {
        const status = await readStatus(f.session, f.layout);
        const env = status.environments.find((e) => e.service === SERVICE && e.env === ENV);
        const hosts = Object.fromEntries((env?.hosts ?? []).map((h) => [h.host, h]));
        const instances = Object.fromEntries((env?.instances ?? []).map((i) => [i.record.host, i]));
        return (
          hosts['cfg-01']?.state === 'applied' &&
          hosts['cfg-01'].heldAt === undefined &&
          HOSTS.slice(1).every((h) => expect.objectContaining(held).asymmetricMatch(hosts[h])) &&
          instances['cfg-01']?.state === 'current' &&
          instances['cfg-01'].heldAt === undefined &&
          HOSTS.slice(1).every(
            (h) => instances[h]?.state === 'current' && instances[h].heldAt === previousCommit,
          ) &&
          !statusHasFindings(status)
        );
      },
      {
        description: 'status: the canary applied, the others held at the previous commit',
        timeoutMs: 60_000,
      },
    );
    // The previous snapshot is pinned while hosts still serve it; the pointer names the newest.
    expect(await pinned()).toEqual([before]);
    expect(await pointerManifest()).not.toBe(before);
    // Only the configuration changed: the deploy command ran nowhere.
    for (const agent of agents.values())
      expect(await readFile(join(agent.prefix, 'deploys.log'), 'utf8').catch(() => '')).toBe('');
  });

  it('rolls it out to the other hosts when resumed, then releases the pin', async () => {
    const shown = await cli('status', SERVICE, ENV);
    expect(shown.stdout).toMatch(
      /configuration of [0-9a-f]{12} rides the rollout; hosts not reached \(every host, on abort\) serve [0-9a-f]{12}; no deploy command runs/,
    );
    expect((await cli('resume', SERVICE, ENV, '--reason', 'the canary looks good')).code).toBe(0);
    await waitForDeployment('d-0000000002', 'succeeded', 'the configuration rollout succeeded');
    await waitForServed(
      HOSTS.map((h) => `${h}=two/two`),
      'every host serves two',
    );
    await waitFor(async () => ((await pinned()).length === 0 ? true : undefined), {
      description: 'the pin is released',
      timeoutMs: 30_000,
    });
  });

  it('returns every host to the previous configuration when the next rollout is aborted', async () => {
    await commitConfig('three');
    await waitForDeployment('d-0000000003', 'paused', 'the next rollout paused after its canary');
    await waitForServed(
      ['cfg-01=three/three', 'cfg-02=two/two', 'cfg-03=two/two'],
      'the canary serves three',
    );
    expect((await cli('abort', SERVICE, ENV, '--reason', 'three is wrong')).code).toBe(0);
    await waitForServed(
      HOSTS.map((h) => `${h}=two/two`),
      'every host is back on two',
    );
    expect((await newest())?.state).toBe('aborted');
    // The pointer still names three (git does, until a revert); the hosts keep two, pinned.
    expect(await pinned()).toHaveLength(1);
  });

  it('hands its assignments to the drain, and releases its pin, when it drains as a consumer instead', async () => {
    const drainsInstead = serviceYaml
      .replace('    configRollout: with-release\n', '    drainDuringDeploys: true\n')
      .replace('environments:', 'dependsOn: [recommender]\nenvironments:');
    await f.work.write({ [`services/${SERVICE}/service.yaml`]: drainsInstead });
    await f.work.commit('config-app drains as a consumer rather than riding its release');
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
    // Nothing drains: every host serves what the pointer names, and the rollout's pin is gone.
    await waitForServed(
      HOSTS.map((h) => `${h}=three/three`),
      'every host serves the pointer’s configuration',
    );
    await waitFor(
      async () =>
        (await read((s) => s.getIfExists(f.layout.configRolloutPin(SERVICE, ENV)))) ? undefined : true,
      { description: 'the rollout pin is removed', timeoutMs: 30_000 },
    );
    const manifest = await pointerManifest();
    for (const host of HOSTS) {
      const path = f.layout.assignment(SERVICE, ENV, host);
      const record = decodeHostAssignmentRecord((await read((s) => s.get(path))).data, path);
      expect(record).toMatchObject({ manifest, drain: {} });
    }
    const drainPin = await read((s) => s.getIfExists(f.layout.drainPin(SERVICE, ENV)));
    expect(drainPin && decodePinRecord(drainPin.data).snapshots).toEqual([]);
  });
});
