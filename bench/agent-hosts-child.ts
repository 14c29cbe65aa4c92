/**
 * The process the agent bench forks to play some of its hosts: one AgentDaemon per host, each with
 * its own ZooKeeper session and prefix, as `cairn agent` runs them. It tells its parent when every
 * agent applied the first commit and, as it happens, each reload an agent starts (the command
 * runner the agents are given says so before it runs the command), stamped on the machine's clock
 * so the parent can compare it with its own.
 */

import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import pino from 'pino';
import { AgentDaemon, type CommandRunner, resolveAgentConfig } from '../agent/index.js';
import { runCommand } from '../agent/run-command.js';
import { waitFor } from '../test/harness/index.js';
import type { AgentHostsCommand, AgentHostsMessage, AgentHostsOptions } from './agent-hosts.js';

const tell = (message: AgentHostsMessage) => process.send?.(message);
const { zk, hosts, scratch, service } = JSON.parse(process.argv[2] ?? '{}') as AgentHostsOptions;

// The agents log as `cairn agent` does by default (info), into nothing: the bench reads files, not logs.
const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
const logger = pino({ level: 'info' }, discard);
const agents = hosts.map((host) => {
  const told: CommandRunner = (options) => {
    if (options.step === 'reload')
      tell({
        type: 'reload',
        host,
        commit: options.env.CAIRN_COMMIT ?? '',
        at: performance.timeOrigin + performance.now(),
      });
    return runCommand(options);
  };
  return new AgentDaemon(
    resolveAgentConfig({ zk, host, prefix: `${scratch}/${host}`, driftInterval: '1h' }, {}, scratch),
    logger,
    { runCommand: told },
  );
});
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
