import { type FSWatcher, watch } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import pino from 'pino';
import { AgentDaemon, resolveAgentConfig } from '../agent/index.js';
import { waitFor } from '../test/harness/index.js';
import { startSyncerFixture } from '../test/support/syncer-fixture.js';
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

/** When each host reached a stage of a commit: commit → host → performance.now(). */
type Arrivals = Map<string, Map<string, number>>;

function arrive(arrivals: Arrivals, commit: string, host: string, at: number): void {
  const hosts = arrivals.get(commit) ?? new Map<string, number>();
  arrivals.set(commit, hosts);
  if (!hosts.has(host)) hosts.set(host, at);
}

/**
 * The agents' debug lines, read as they are written: when each agent started each reload (the
 * agent's own part ends there; what follows is the cost of spawning the shell).
 */
function reloadStarts(arrivals: Arrivals): pino.Logger {
  const lines = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const at = performance.now();
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.includes('"running reload"')) continue;
        const entry = JSON.parse(line) as { host: string; commit: string };
        arrive(arrivals, entry.commit, entry.host, at);
      }
      done();
    },
  });
  return pino({ level: 'debug' }, lines);
}

/**
 * The agent table: one commit reaching 100 agents (in this process, one ZooKeeper session each),
 * from the syncer's publication to the last host's file on disk, the last reload started and the
 * last reload done, and how many reloads each commit cost.
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

    const reloaded: Arrivals = new Map();
    const started: Arrivals = new Map();
    const written: Arrivals = new Map();
    const commitOf = new Map<string, string>(); // app.yaml's bytes → the commit that brought them
    const logger = reloadStarts(started);
    for (const host of HOSTS) {
      const prefix = join(scratch, host);
      await mkdir(join(prefix, 'srv'), { recursive: true });
      const agent = new AgentDaemon(
        resolveAgentConfig({ zk: f.zk.connectString, host, prefix, driftInterval: '1h' }, {}, scratch),
        logger,
      );
      agents.push(agent);
      await agent.start();
      const log = join(prefix, 'srv/reloads.log');
      watchers.push(
        watch(join(prefix, 'srv'), () => {
          const at = performance.now();
          void readFile(log, 'utf8').then(
            (text) => {
              for (const commit of text.split('\n').filter(Boolean)) arrive(reloaded, commit, host, at);
            },
            () => undefined,
          );
        }),
      );
      const directory = join(prefix, 'srv/bench-app');
      await mkdir(directory, { recursive: true });
      watchers.push(
        watch(directory, (_event, name) => {
          if (name !== 'app.yaml') return;
          const at = performance.now();
          void readFile(join(directory, 'app.yaml'), 'utf8').then(
            (text) => {
              const commit = commitOf.get(text);
              if (commit) arrive(written, commit, host, at);
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

    // On a loaded machine the syncer's own session can expire while 100 shells are spawned from this
    // process: it then starts a new one and mirrors the commit, and the notes say how often.
    let renewedSessions = 0;
    const publish = async () => {
      try {
        await mirror.sync(f.target);
      } catch (error) {
        if ((error as { code?: string }).code !== 'SESSION_EXPIRED') throw error;
        renewedSessions++;
        await f.renewSession(60_000);
        await mirror.sync(f.target);
      }
    };
    const lastWritten: number[] = [];
    const lastStarted: number[] = [];
    const lastReload: number[] = [];
    const perHost: number[] = [];
    for (let n = 1; n <= COMMITS; n++) {
      const bytes = `n: ${n}\n`;
      await f.work.write({ 'services/bench-app/config/app.yaml': bytes });
      const commit = await f.work.commit(`Bench commit ${n}`);
      commitOf.set(bytes, commit);
      await f.work.push(f.repoUrl);
      await publish();
      const published = performance.now();
      await waitFor(
        () =>
          (reloaded.get(commit)?.size ?? 0) === AGENTS &&
          (written.get(commit)?.size ?? 0) === AGENTS &&
          (started.get(commit)?.size ?? 0) === AGENTS,
        { description: `commit ${n} written and reloaded on every host`, timeoutMs: 60_000, intervalMs: 2 },
      );
      const last = (arrivals: Arrivals) => Math.max(...(arrivals.get(commit)?.values() ?? [])) - published;
      lastWritten.push(last(written));
      lastStarted.push(last(started));
      lastReload.push(last(reloaded));
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
    const agentP99 = percentile(lastStarted, 99);
    const most = Math.max(...perHost);
    const row = (measure: string, values: number[]) => [
      measure,
      ms(percentile(values, 50)),
      ms(percentile(values, 99)),
      ms(Math.max(...values)),
    ];
    return [
      {
        title: `Agent: one commit reaching ${AGENTS} agents (${COMMITS} commits, one at a time)`,
        columns: ['published (pointer flipped) →', 'p50', 'p99', 'max'],
        rows: [
          row('last host with the file on disk', lastWritten),
          row('last host starting its reload (the agent’s part)', lastStarted),
          row('last host done reloading (spawning the shell included)', lastReload),
        ],
        notes: [
          `${AGENTS} agents in this one process, each with its own ZooKeeper session and directory; each reload is a shell command.`,
          'A reload starts when the agent spawns it, after the files are on disk; it is done when the shell has written its line.',
          'Spawning 100 shells from one process is this bench’s cost, not a host’s: a host spawns its own agent’s reload, once.',
          `The syncer's session expired and was renewed ${renewedSessions} times (the commit was then mirrored on the new one).`,
          `Reloads per commit per host: at most ${most} (must be exactly 1: ${most === 1 ? 'met' : 'NOT met'}).`,
          `Target: p99 under 300 ms. The agent’s part: ${agentP99 < 300 ? 'met' : 'NOT met'}; to the last reload done: ${p99 < 300 ? 'met' : 'NOT met'}.`,
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
