import { type FSWatcher, watch } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AgentDaemon, resolveAgentConfig } from '../agent/index.js';
import { waitFor } from '../test/harness/index.js';
import { quietLogger, startSyncerFixture } from '../test/support/syncer-fixture.js';
import { type BenchTable, percentile } from './table.js';

const AGENTS = 100;
const COMMITS = 50;
const HOSTS = Array.from({ length: AGENTS }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
const SERVICE = [
  'apiVersion: cairn/v1',
  'description: The service every bench agent writes files for.',
  'owners: [team:platform]',
  'files:',
  '  directory: /srv/bench-app',
  // The reload says which commit it reloaded, next to the directory.
  'reload: echo "$CAIRN_COMMIT" >> ../reloads.log',
  'environments:',
  '  dev:',
  '    hosts:',
  ...HOSTS.map((host) => `      - host: ${host}`),
  '',
].join('\n');

/**
 * The agent table: one commit reaching 100 agents (in this process, one ZooKeeper session each),
 * from the syncer's publication to the last host's reload, and how many reloads each commit cost.
 */
export async function run(): Promise<BenchTable[]> {
  const f = await startSyncerFixture();
  const scratch = await mkdtemp(join(tmpdir(), 'cairn-agent-bench-'));
  const mirror = f.newMirror();
  const agents: AgentDaemon[] = [];
  const watchers: FSWatcher[] = [];
  try {
    await f.work.write({
      'services/bench-app/service.yaml': SERVICE,
      'services/bench-app/config/app.yaml': 'n: 0\n',
    });
    await f.work.commit('Add the bench service');
    await f.work.push(f.repoUrl);
    await mirror.sync(f.target);

    const reloaded = new Map<string, Map<string, number>>(); // commit → host → when
    for (const host of HOSTS) {
      const prefix = join(scratch, host);
      await mkdir(join(prefix, 'srv'), { recursive: true });
      const agent = new AgentDaemon(
        resolveAgentConfig({ zk: f.zk.connectString, host, prefix, driftInterval: '1h' }, {}, scratch),
        quietLogger,
      );
      agents.push(agent);
      await agent.start();
      const log = join(prefix, 'srv/reloads.log');
      watchers.push(
        watch(join(prefix, 'srv'), () => {
          const at = performance.now();
          void readFile(log, 'utf8').then(
            (text) => {
              for (const commit of text.split('\n').filter(Boolean)) {
                const hosts = reloaded.get(commit) ?? new Map<string, number>();
                reloaded.set(commit, hosts);
                if (!hosts.has(host)) hosts.set(host, at);
              }
            },
            () => undefined,
          );
        }),
      );
    }
    await waitFor(() => agents.every((a) => a.record().services['bench-app/dev']?.state === 'applied'), {
      description: 'every agent applying the first commit',
      timeoutMs: 120_000,
    });

    const lastReload: number[] = [];
    const perHost: number[] = [];
    for (let n = 1; n <= COMMITS; n++) {
      await f.work.write({ 'services/bench-app/config/app.yaml': `n: ${n}\n` });
      const commit = await f.work.commit(`Bench commit ${n}`);
      await f.work.push(f.repoUrl);
      await mirror.sync(f.target);
      const published = performance.now();
      await waitFor(() => (reloaded.get(commit)?.size ?? 0) === AGENTS, {
        description: `commit ${n} reloaded on every host`,
        timeoutMs: 60_000,
        intervalMs: 2,
      });
      lastReload.push(Math.max(...(reloaded.get(commit)?.values() ?? [])) - published);
    }
    for (const host of HOSTS) {
      const lines = (await readFile(join(scratch, host, 'srv/reloads.log'), 'utf8'))
        .split('\n')
        .filter(Boolean);
      const counts = new Map<string, number>();
      for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
      perHost.push(Math.max(...counts.values()));
    }
    const p99 = percentile(lastReload, 99);
    const most = Math.max(...perHost);
    return [
      {
        title: `Agent: one commit reaching ${AGENTS} agents (${COMMITS} commits, one at a time)`,
        columns: ['measure', 'p50', 'p99', 'max'],
        rows: [
          [
            'published (pointer flipped) → last host reloaded',
            ms(percentile(lastReload, 50)),
            ms(p99),
            ms(Math.max(...lastReload)),
          ],
        ],
        notes: [
          `${AGENTS} agents in this one process, each with its own ZooKeeper session and directory; each reload is a shell command.`,
          'The last host reloaded is the last file on disk too: the reload runs after the files are written.',
          `Reloads per commit per host: at most ${most} (must be exactly 1: ${most === 1 ? 'met' : 'NOT met'}).`,
          `Target: p99 under 300 ms. ${p99 < 300 ? 'Met' : 'NOT met'}.`,
        ],
      },
    ];
  } finally {
    for (const watcher of watchers) watcher.close();
    await Promise.all(agents.map((agent) => agent.close()));
    await f.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}
