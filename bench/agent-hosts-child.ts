/**
 * The process the agent bench forks to play some of its hosts: one AgentDaemon per host, each with
 * its own ZooKeeper session and prefix, as `cairn agent` runs them. It tells its parent when every
 * agent applied the first commit and, as it happens, each reload an agent starts (from the agents'
 * own debug line), stamped on the machine's clock so the parent can compare it with its own.
 */

import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import pino from 'pino';
import { AgentDaemon, resolveAgentConfig } from '../agent/index.js';
import { waitFor } from '../test/harness/index.js';
import type { AgentHostsCommand, AgentHostsMessage, AgentHostsOptions } from './agent-hosts.js';

const tell = (message: AgentHostsMessage) => process.send?.(message);
const { zk, hosts, scratch, service } = JSON.parse(process.argv[2] ?? '{}') as AgentHostsOptions;

const lines = new Writable({
  write(chunk: Buffer, _encoding, done) {
    const at = performance.timeOrigin + performance.now();
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.includes('"running reload"')) continue;
      const entry = JSON.parse(line) as { host: string; commit: string };
      tell({ type: 'reload', host: entry.host, commit: entry.commit, at });
    }
    done();
  },
});
const logger = pino({ level: 'debug' }, lines);
const agents = hosts.map(
  (host) =>
    new AgentDaemon(
      resolveAgentConfig({ zk, host, prefix: `${scratch}/${host}`, driftInterval: '1h' }, {}, scratch),
      logger,
    ),
);
for (const agent of agents) await agent.start();
await waitFor(() => agents.every((a) => a.record().services[service]?.state === 'applied'), {
  description: 'every agent applying the first commit',
  timeoutMs: 120_000,
});
tell({ type: 'ready' });

async function stop(): Promise<void> {
  await Promise.all(agents.map((agent) => agent.close()));
  process.exit(0);
}
process.on('message', (command: AgentHostsCommand) => {
  if (command.type === 'close') void stop();
});
process.on('disconnect', () => void stop());
