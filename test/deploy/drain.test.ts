import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeAgentRecord,
  decodeHostAssignmentRecord,
  decodePinRecord,
  environmentKey,
  type ReleaseStrategy,
  readStatus,
  type ZkSession,
} from '../../core/index.js';
import type { SyncerDaemon } from '../../syncer/index.js';
import { type AgentProcess, startAgent } from '../agent/agent-fixture.js';
import { waitFor } from '../harness/index.js';
import { runCliCaptured } from '../support/run-cli.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import {
  ENV,
  inState,
  marker,
  pausedFor,
  readRenewing,
  releasePath,
  releaseYaml,
  runsOfVersion,
  SERVICE,
  servicePath,
  serviceYaml,
  waitForDeployment,
} from './deploy-fixture.js';

const HOSTS = ['deploy-01', 'deploy-02'];
const GATEWAY = 'drain-gw';
const GATEWAY_HOST = 'gw-01';
/** The canary, a pause after it, then the other host. */
const STRATEGY: ReleaseStrategy = { canary: { hosts: 1, bakeSeconds: 0, pause: true }, batchSize: 1 };

/** A gateway that routes to deploy-app and takes its deploying hosts out of rotation. */
const gatewayYaml = [
  'apiVersion: cairn/v1',
  'description: A gateway in front of deploy-app.',
  'owners: [team:platform]',
  'files:',
  `  directory: /srv/${GATEWAY}`,
  `dependsOn: [${SERVICE}]`,
  'drainDuringDeploys: true',
  // Waits while the agent's prefix holds hold-reload, fails while it holds fail-reload, and logs each
  // run that succeeds there (the files' directory is srv/drain-gw in it).
  [
    'reload: while [ -f ../../hold-reload ]; do sleep 0.1; done',
    'test ! -f ../../fail-reload && echo reloaded >> ../../reloads.log',
  ].join('; '),
  'environments:',
  `  ${ENV}:`,
  '    hosts:',
  `      - host: ${GATEWAY_HOST}`,
  '',
].join('\n');
const upstreamTemplate = [
  '{%- for upstream in dependencies %}',
  '{%- for server in upstream.hosts %}',
  '{{ server.host }} {% if server.draining %}down{% else %}up{% endif %}',
  '{%- endfor %}',
  '{%- endfor %}',
  '',
].join('\n');

// Three agent processes and a syncer on a loaded machine: generous deadlines.
describe('draining a consumer’s upstream during a deploy', { timeout: 240_000 }, () => {
  let f: SyncerFixture;
  let leader: SyncerDaemon;
  /** The daemon that leads now: the standby, once the failover test made it take over. */
  let current: SyncerDaemon;
  const agents = new Map<string, AgentProcess>();
  const agent = (host: string) => agents.get(host) as AgentProcess;
  const cli = (...args: string[]) =>
    runCliCaptured(['deploy', ...args, SERVICE, ENV, '--zk', f.zk.connectString], { CAIRN_USER: 'ops-ada' });

  /** The gateway host's upstream, as `host=up|down` per deploy-app host. */
  const upstream = async () => {
    const text = await readFile(
      join(agent(GATEWAY_HOST).prefix, `srv/${GATEWAY}/upstreams.conf`),
      'utf8',
    ).catch(() => '');
    return [...text.matchAll(/^(\S+) (up|down)$/gm)].map(([, host, state]) => `${host}=${state}`).join(' ');
  };
  const waitForUpstream = (expected: string, description: string) =>
    waitFor(async () => ((await upstream()) === expected ? true : undefined), {
      description,
      timeoutMs: 90_000,
      intervalMs: 100,
    }).catch(async (error) => {
      throw new Error(`${(error as Error).message}; the upstream says ${await upstream()}`);
    });
  /** Reads through the fixture's session, renewed first when it expired on a loaded machine. */
  const read = <T>(how: (session: ZkSession) => Promise<T>) => readRenewing(f, how);
  const pin = async () => {
    const node = await read((s) => s.getIfExists(f.layout.drainPin(GATEWAY, ENV)));
    return node ? decodePinRecord(node.data).snapshots : undefined;
  };
  const assignment = async () => {
    const path = f.layout.assignment(GATEWAY, ENV, GATEWAY_HOST);
    const node = await read((s) => s.getIfExists(path));
    return node ? { record: decodeHostAssignmentRecord(node.data, path), mzxid: node.stat.mzxid } : undefined;
  };
  /**
   * Which write of its assignment the gateway's agent says its files answer (its record's
   * `assignment`), from the record of the agent process running now.
   */
  const answered = async () => {
    const path = f.layout.agent(GATEWAY_HOST);
    const node = await read((s) => s.getIfExists(path));
    const record = node ? decodeAgentRecord(node.data, path) : undefined;
    if (record?.pid !== agent(GATEWAY_HOST).process.pid) return undefined;
    return record?.services[environmentKey(GATEWAY, ENV)]?.assignment;
  };
  /** How many times the gateway's reload succeeded (each run logs a line). */
  const reloads = async () =>
    (await readFile(join(agent(GATEWAY_HOST).prefix, 'reloads.log'), 'utf8').catch(() => '')).split('\n')
      .length - 1;
  /** What `cairn status` reads about the gateway's host. */
  const gatewayHostStatus = async () => {
    const status = await read((s) => readStatus(s, f.layout));
    const gateway = status.environments.find((env) => env.service === GATEWAY && env.env === ENV);
    return gateway?.hosts.find((host) => host.host === GATEWAY_HOST);
  };
  const gatewayFile = () =>
    readFile(join(agent(GATEWAY_HOST).prefix, `srv/${GATEWAY}/upstreams.conf`), 'utf8').catch(() => '');
  const commitGateway = async (files: Record<string, string>, message: string) => {
    await f.work.write(files);
    await f.work.commit(message);
    await f.work.push(f.repoUrl);
    await current.syncNow();
  };
  const release = async (version: string, deploy: { timeoutSeconds?: number } = {}) => {
    await f.work.write({ [releasePath]: releaseYaml(version, STRATEGY, deploy) });
    await f.work.commit(`Release ${version}`);
    await f.work.push(f.repoUrl);
  };

  /** The canary's deploy command of `version` started (its drain, if any, applied). */
  const waitForCanaryRun = (version: string) =>
    waitFor(async () => ((await runsOfVersion(agent('deploy-01'), version)) > 0 ? true : undefined), {
      description: `the canary of ${version} deploys`,
      timeoutMs: 60_000,
    });
  /** Releases `version`, its canary's deploy held by a gate, and waits for the gateway to drain the canary. */
  const releaseHeldCanary = async (version: string) => {
    await marker(agent('deploy-01'), `gate-${version}`);
    await release(version);
    await current.syncNow();
    await waitForUpstream('deploy-01=down deploy-02=up', `the canary of ${version} drained`);
  };
  /** Resumes a deployment its drain paused: the canary deploys once, the deployment pauses after it, the host comes back. */
  const resumeThroughCanary = async (version: string, reason: string) => {
    expect((await cli('resume', '--reason', reason)).code).toBe(0);
    await waitForDeployment(f, version, pausedFor('canary'), `${version} paused after its canary`, 60_000);
    expect(await runsOfVersion(agent('deploy-01'), version)).toBe(1);
    await waitForUpstream('deploy-01=up deploy-02=up', `the canary of ${version} back`);
  };

  beforeAll(async () => {
    f = await startSyncerFixture();
    leader = await f.startDaemon({ replicaId: 'drain-a', poll: '1s', sessionTimeout: '4s' });
    await Promise.all(
      [...HOSTS, GATEWAY_HOST].map(async (host) =>
        // The gateway's reload is held on purpose: past the agent's command timeout it would be
        // killed, and the restore rejected.
        agents.set(host, await startAgent(f, host, host === GATEWAY_HOST ? ['--command-timeout', '5m'] : [])),
      ),
    );
    await f.work.write({
      [servicePath]: serviceYaml(HOSTS),
      [releasePath]: releaseYaml('v1', STRATEGY),
      [`services/${GATEWAY}/service.yaml`]: gatewayYaml,
      [`services/${GATEWAY}/config/upstreams.conf.liquid`]: upstreamTemplate,
    });
    await f.work.commit('Add deploy-app at v1, and a gateway that drains it');
    await f.work.push(f.repoUrl);
    current = leader;
    await leader.syncNow();
    await waitForDeployment(f, 'v1', inState('succeeded'), 'v1 recorded as deployed');
  }, 180_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.close()));
    await f?.close();
  });

  it('marks the canary down while it deploys, and up again once its health check passed', async () => {
    await waitForUpstream('deploy-01=up deploy-02=up', 'the gateway routes to both hosts');
    await marker(agent('deploy-01'), 'gate-v2');
    await release('v2');
    // The canary's deploy starts only once the gateway applied the drain.
    await waitForCanaryRun('v2');
    expect(await upstream()).toBe('deploy-01=down deploy-02=up');
    const drained = await assignment();
    expect(drained?.record.drain).toEqual({ [SERVICE]: ['deploy-01'] });
    expect(await pin()).toEqual([drained?.record.manifest]);
    // Status says the gateway host drains the canary, not that a rollout holds it at the newest commit.
    expect(await gatewayHostStatus()).toMatchObject({
      host: GATEWAY_HOST,
      drained: { [SERVICE]: ['deploy-01'] },
    });
    expect(await gatewayHostStatus()).not.toHaveProperty('heldAt');
    await marker(agent('deploy-01'), 'gate-v2', false);
    await waitForDeployment(f, 'v2', inState('paused'), 'v2 paused after its canary');
    await waitForUpstream('deploy-01=up deploy-02=up', 'the canary back after its health check');
    // The host is back on the pointer's snapshot through an assignment naming it, and nothing is pinned.
    await waitFor(async () => ((await pin())?.length === 0 ? true : undefined), {
      description: 'the drained snapshot unpinned',
      timeoutMs: 30_000,
    });
    expect((await assignment())?.record.drain).toEqual({});
    const restored = await gatewayHostStatus();
    expect(restored).not.toHaveProperty('drained');
    expect(restored).not.toHaveProperty('heldAt');
  });

  it('restores the hosts after an abort, once the task in flight finished', async () => {
    await marker(agent('deploy-02'), 'gate-v2');
    expect((await cli('resume', '--reason', 'the canary looks good')).code).toBe(0);
    await waitForUpstream('deploy-01=up deploy-02=down', 'the batch drained while it deploys');
    expect((await cli('abort', '--reason', 'stop here')).code).toBe(0);
    await waitForDeployment(f, 'v2', inState('aborted'), 'v2 aborted');
    // Its task is still in flight: the host stays out of rotation until it finishes.
    expect(await upstream()).toBe('deploy-01=up deploy-02=down');
    await marker(agent('deploy-02'), 'gate-v2', false);
    await waitForUpstream('deploy-01=up deploy-02=up', 'every host back after the abort');
  });

  it('keeps draining when the leader goes: the standby reaches the same answer, then restores', async () => {
    const standby = await f.startDaemon({ replicaId: 'drain-b', poll: '1s', sessionTimeout: '4s' });
    await waitFor(() => standby.status().role === 'standby', {
      description: 'the standby',
      timeoutMs: 30_000,
    });
    await releaseHeldCanary('v3');
    const before = await assignment();
    await leader.close();
    await waitFor(() => standby.status().role === 'leader', {
      description: 'the standby leads',
      timeoutMs: 30_000,
    });
    current = standby;
    await standby.syncNow();
    // Decided from stored records alone: the new leader rewrites nothing.
    expect(await assignment()).toEqual(before);
    expect(await upstream()).toBe('deploy-01=down deploy-02=up');
    await marker(agent('deploy-01'), 'gate-v3', false);
    await waitForDeployment(f, 'v3', inState('paused'), 'v3 paused after its canary, under the new leader');
    await waitForUpstream('deploy-01=up deploy-02=up', 'the canary back under the new leader');
  });

  it('renders the drain again when the consumer’s own files change mid-drain, and restores the new files', async () => {
    await releaseHeldCanary('v4');
    await commitGateway(
      { [`services/${GATEWAY}/config/upstreams.conf.liquid`]: `# revision 2\n${upstreamTemplate}` },
      'The gateway says its revision',
    );
    await waitFor(async () => ((await gatewayFile()).startsWith('# revision 2') ? true : undefined), {
      description: 'the new template rendered with the canary draining',
      timeoutMs: 60_000,
    });
    expect(await upstream()).toBe('deploy-01=down deploy-02=up');
    await marker(agent('deploy-01'), 'gate-v4', false);
    await waitForUpstream('deploy-01=up deploy-02=up', 'the canary of v4 back');
    expect(await gatewayFile()).toMatch(/^# revision 2/);
  });

  it('pauses (reason drain) when the consumer does not apply the drain in time, and deploys when resumed', async () => {
    // Killed maybe before it reported v4's restore: its record, kept until its session expires, may
    // still name v4's drained files, which v5's canary drains again to the same content id. The step
    // must not take them for its own drain.
    await agent(GATEWAY_HOST).kill();
    await release('v5', { timeoutSeconds: 3 });
    await current.syncNow();
    const paused = await waitForDeployment(
      f,
      'v5',
      pausedFor('drain'),
      'v5 paused: the gateway did not apply the drain',
      60_000,
    );
    expect(paused.deployment.reason).toMatch(/did not apply the drain of step 1\/2 within 3 s/);
    expect(await runsOfVersion(agent('deploy-01'), 'v5')).toBe(0);
    await agent(GATEWAY_HOST).restart();
    await resumeThroughCanary('v5', 'the gateway is back');
  });

  it('waits for the drain itself when an earlier drain named the same files and the restore is not yet reported', async () => {
    await releaseHeldCanary('v6');
    await waitForCanaryRun('v6');
    const earlier = await assignment();
    await waitFor(async () => ((await answered()) === earlier?.mzxid.toString() ? true : undefined), {
      description: 'the gateway’s agent answering the drain of v6',
      timeoutMs: 60_000,
    });
    // The restore goes on disk, and its reload waits: the agent's record still names the drained files.
    await marker(agent(GATEWAY_HOST), 'hold-reload');
    try {
      await marker(agent('deploy-01'), 'gate-v6', false);
      await waitForDeployment(f, 'v6', pausedFor('canary'), 'v6 paused after its canary');
      await waitForUpstream('deploy-01=up deploy-02=up', 'the restore of v6 on disk, its reload held');

      // v7's canary drains the same host to the very files the record names, in a new write of the
      // assignment. The agent cannot answer it while its reload is held: the step waits, and pauses
      // at the deadline (long enough for the test to see the drain's assignment before the pause
      // takes it back), instead of deploying a host the gateway's files route to.
      await release('v7', { timeoutSeconds: 10 });
      await current.syncNow();
      const drain = await waitFor(
        async () => {
          const now = await assignment();
          return now && now.mzxid !== earlier?.mzxid && now.record.drain?.[SERVICE]?.includes('deploy-01')
            ? now
            : undefined;
        },
        { description: 'the canary of v7 assigned its drain', timeoutMs: 60_000 },
      );
      expect(drain.record.manifest).toBe(earlier?.record.manifest);
      const stopped = await waitForDeployment(
        f,
        'v7',
        (s) => pausedFor('drain')(s) || Object.keys(s.tasks).length > 0,
        'v7 paused for the drain of its canary, or deploying it',
        60_000,
      );
      expect(stopped.tasks).toEqual({});
      expect(stopped.deployment.reason).toMatch(/did not apply the drain of step 1\/2 within 10 s/);
      expect(await runsOfVersion(agent('deploy-01'), 'v7')).toBe(0);
    } finally {
      await marker(agent(GATEWAY_HOST), 'hold-reload', false);
    }
    await resumeThroughCanary('v7', 'the gateway reloads again');
  });

  it('answers the assignment its files already follow after a restart, without a swap', async () => {
    const restored = await assignment();
    await waitFor(async () => ((await answered()) === restored?.mzxid.toString() ? true : undefined), {
      description: 'the gateway’s agent answering the restore of v7',
      timeoutMs: 60_000,
    });
    const before = await reloads();
    await agent(GATEWAY_HOST).kill('SIGTERM');
    await agent(GATEWAY_HOST).restart();
    await waitFor(
      async () => {
        const host = await gatewayHostStatus();
        return host?.state === 'applied' && (await answered()) === restored?.mzxid.toString()
          ? true
          : undefined;
      },
      { description: 'the restarted agent answering the same assignment', timeoutMs: 60_000 },
    );
    expect(await reloads()).toBe(before);
    expect((await assignment())?.mzxid).toBe(restored?.mzxid);
  });

  it('tries a refused restore again with the next deployment’s, instead of keeping the host drained', async () => {
    await releaseHeldCanary('v8');
    // Its canary deploys once the gateway reloaded the drain and said so: only the restore can fail.
    await waitForCanaryRun('v8');
    await marker(agent(GATEWAY_HOST), 'fail-reload');
    try {
      await marker(agent('deploy-01'), 'gate-v8', false);
      await waitForDeployment(f, 'v8', pausedFor('canary'), 'v8 paused after its canary');
      // The previous files, the drained ones, go back; any new write of the restore is refused too.
      await waitFor(async () => ((await gatewayHostStatus())?.state === 'rejected' ? true : undefined), {
        description: 'the restore of v8 refused by the gateway’s reload',
        timeoutMs: 60_000,
      });
    } finally {
      await marker(agent(GATEWAY_HOST), 'fail-reload', false);
    }
    // v9 drains the host the files already drain, and its restore names the refused files again.
    await releaseHeldCanary('v9');
    await waitForCanaryRun('v9');
    await marker(agent('deploy-01'), 'gate-v9', false);
    await waitForDeployment(f, 'v9', pausedFor('canary'), 'v9 paused after its canary');
    await waitForUpstream('deploy-01=up deploy-02=up', 'the restore of v9 on disk');
    // Reported once its reload ran.
    await waitFor(async () => ((await gatewayHostStatus())?.state === 'applied' ? true : undefined), {
      description: 'the restore of v9 reported applied',
      timeoutMs: 60_000,
    });
  });

  it('drops its assignments and pin when the consumer stops draining', async () => {
    expect(await assignment()).toBeDefined();
    await commitGateway(
      { [`services/${GATEWAY}/service.yaml`]: gatewayYaml.replace('drainDuringDeploys: true\n', '') },
      'The gateway stops draining',
    );
    await waitFor(
      async () => ((await assignment()) === undefined && (await pin()) === undefined ? true : undefined),
      {
        description: 'the drain assignments and pin removed',
        timeoutMs: 30_000,
      },
    );
    expect(await upstream()).toBe('deploy-01=up deploy-02=up');
  });
});
