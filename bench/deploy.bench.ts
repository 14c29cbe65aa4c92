import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentDaemon, resolveAgentConfig } from '../agent/index.js';
import type { DeploymentStatus } from '../core/index.js';
import { readDeploymentStatus, resolveDeployment } from '../core/index.js';
import { resolveSyncerConfig, SyncerDaemon } from '../syncer/index.js';
import { waitFor } from '../test/harness/index.js';
import { quietLogger, startSyncerFixture } from '../test/support/syncer-fixture.js';
import type { BenchTable } from './table.js';

const AGENTS = 200;
const HOSTS = Array.from({ length: AGENTS }, (_, i) => `deploy-${String(i).padStart(3, '0')}`);
const SERVICE = 'bench-deploy';
const ENV = 'dev';
const SERVICE_YAML = [
  'apiVersion: cairn/v1',
  'description: The service every bench agent deploys.',
  'owners: [team:platform]',
  'environments:',
  '  dev:',
  '    hosts:',
  ...HOSTS.map((host) => `      - host: ${host}`),
  '',
].join('\n');
const release = (version: string) =>
  [
    'apiVersion: cairn/v1',
    `version: ${version}`,
    'deploy:',
    '  command: "true"',
    'strategy:',
    '  batchSize: "20%"',
    '',
  ].join('\n');

/**
 * The deployment table: a no-op deploy over 200 agents (in this process, one ZooKeeper session each)
 * in batches of 20 %, and the controller's overhead per batch: the time from a batch's start to the
 * next one's (or to the deployment's end), less the longest deploy command of the batch.
 */
export async function run(): Promise<BenchTable[]> {
  const f = await startSyncerFixture();
  const scratch = await mkdtemp(join(tmpdir(), 'cairn-deploy-bench-'));
  const agents: AgentDaemon[] = [];
  const daemon = new SyncerDaemon(
    resolveSyncerConfig(
      {
        repo: f.repoUrl,
        zk: f.zk.connectString,
        poll: '1h',
        replicaId: 'bench',
        cacheDir: await mkdtemp(join(tmpdir(), 'cairn-deploy-bench-cache-')),
      },
      {},
      { hostname: 'bench', pid: 0 },
    ),
    quietLogger,
  );
  const publish = async (files: Record<string, string>, message: string) => {
    await f.work.write(files);
    await f.work.commit(message);
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
  };
  const status = async (): Promise<DeploymentStatus | undefined> => {
    try {
      return await readDeploymentStatus(
        f.session,
        f.layout,
        await resolveDeployment(f.session, f.layout, { service: SERVICE, env: ENV }),
      );
    } catch {
      // No deployment yet.
      return undefined;
    }
  };
  try {
    await daemon.start();
    await publish(
      {
        [`services/${SERVICE}/service.yaml`]: SERVICE_YAML,
        [`services/${SERVICE}/releases/${ENV}.yaml`]: release('v1'),
      },
      'Add the bench service at v1',
    );
    for (const host of HOSTS) {
      const prefix = join(scratch, host);
      await mkdir(prefix, { recursive: true });
      const agent = new AgentDaemon(
        resolveAgentConfig({ zk: f.zk.connectString, host, prefix, driftInterval: '1h' }, {}, scratch),
        quietLogger,
      );
      agents.push(agent);
      await agent.start();
    }
    await waitFor(async () => (await status())?.deployment.state === 'succeeded', {
      description: 'v1 recorded as deployed',
      timeoutMs: 120_000,
    });
    // Every agent follows the service tree before the release changes.
    await Promise.all(agents.map((agent) => agent.whenIdle()));

    const started = performance.now();
    await publish({ [`services/${SERVICE}/releases/${ENV}.yaml`]: release('v2') }, 'Release v2');
    const done = await waitFor(
      async () => {
        const s = await status();
        return s?.deployment.release.version === 'v2' && s.deployment.state === 'succeeded' ? s : undefined;
      },
      { description: 'v2 deployed on every host', timeoutMs: 600_000, intervalMs: 50 },
    );
    const total = performance.now() - started;
    const { deployment, tasks } = done;
    const steps = deployment.plan.steps;
    const startOf = (i: number) =>
      Math.min(...(steps[i]?.hosts ?? []).map((h) => Date.parse(tasks[h]?.createdAt ?? '')));
    const end = Date.parse(deployment.transitions.at(-1)?.at ?? '');
    const rows = steps.map((step, i) => {
      const commandMs = Math.max(...step.hosts.map((h) => tasks[h]?.durationMs ?? 0));
      const span = (i + 1 < steps.length ? startOf(i + 1) : end) - startOf(i);
      return [
        `batch ${i + 1} (${step.hosts.length} hosts)`,
        ms(span),
        ms(commandMs),
        ms(Math.max(0, span - commandMs)),
      ];
    });
    const overheads = rows.map(
      (row) => Number.parseFloat(String(row[3])) * (String(row[3]).endsWith(' s') ? 1000 : 1),
    );
    const worst = Math.max(...overheads);
    return [
      {
        title: `Deployments: a no-op deploy over ${AGENTS} agents in batches of 20 %`,
        columns: ['batch', 'batch start → next start', 'longest command', 'controller overhead'],
        rows,
        notes: [
          `${AGENTS} agents in this one process, each with its own ZooKeeper session; the deploy command is \`true\`.`,
          `From the merge's mirroring to the deployment's success: ${ms(total)}.`,
          'Longest command: the agent’s own measure of a host’s deploy (from the claim to the command’s exit); 40 shells spawned at once in one process make most of it.',
          'Controller overhead: the rest of the batch — tasks created → seen and claimed by the agents, results reported → seen by the controller → next batch created.',
          `Target: under 1 s per batch. ${worst < 1000 ? 'Met' : 'NOT met'} (worst ${ms(worst)}).`,
        ],
      },
    ];
  } finally {
    await Promise.all(agents.map((agent) => agent.close()));
    await daemon.close();
    await f.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
}
