import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AgentRecord, type AgentServiceStatus, decodeAgentRecord } from '../../core/index.js';
import type { Mirror } from '../../syncer/mirror.js';
import { waitFor } from '../harness/index.js';
import { spawnCairn } from '../support/cairn-process.js';
import type { SyncerFixture } from '../support/syncer-fixture.js';

/** A service made for the agent's tests: its check and reload say what they saw next to its directory. */
export const DEMO_SERVICE = [
  'apiVersion: cairn/v1',
  'description: A service the agent tests write files for.',
  'owners: [team:platform]',
  'files:',
  '  directory: /srv/demo-app',
  '  mode: "0640"',
  // Fails on a commit that says so; counts reloads next to the directory; hangs when told to.
  `check: "! grep -q 'fail: true' app.yaml"`,
  `reload: "if grep -q 'hang: true' app.yaml; then sleep 60; fi; echo \\"$CAIRN_COMMIT\\" >> ../reloads.log"`,
  'environments:',
  '  dev:',
  '    hosts:',
  '      - host: demo-01',
  '      - host: demo-02',
  '',
].join('\n');

export const DEMO_FILES = (n: number): Record<string, string> => ({
  'services/demo-app/config/app.yaml': `version: ${n}\n`,
  'services/demo-app/config/rules/a.yaml': `a: ${n}\n`,
  'services/demo-app/config/rules/b.yaml': `b: ${n}\n`,
});

/** One agent process under a prefix of its own. */
export interface AgentProcess {
  readonly host: string;
  readonly prefix: string;
  /** The demo service's directory under the prefix. */
  readonly directory: string;
  process: ChildProcess;
  /** Everything the agent logged so far (JSON lines on stderr). */
  logs(): string;
  /** The commits reloaded, in order, from the reload command's own log. */
  reloads(): Promise<string[]>;
  /** The file's content in the demo directory, or undefined. */
  file(path: string): Promise<string | undefined>;
  restart(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

export async function startAgent(
  f: SyncerFixture,
  host: string,
  extra: readonly string[] = [],
): Promise<AgentProcess> {
  const prefix = await mkdtemp(join(tmpdir(), `cairn-agent-${host}-`));
  const args = [
    'agent',
    '--zk',
    f.zk.connectString,
    '--host',
    host,
    '--prefix',
    prefix,
    '--drift-interval',
    '300ms',
    '--command-timeout',
    '2s',
    '--session-timeout',
    '4s',
    ...extra,
  ];
  let exited: Promise<unknown> = Promise.resolve();
  let logs = '';
  const spawnOne = () => {
    const child = spawnCairn(args, { CAIRN_LOG_LEVEL: process.env.CAIRN_TEST_LOG ?? 'warn' });
    child.stderr?.on('data', (chunk: Buffer) => {
      logs += chunk.toString();
      if (process.env.CAIRN_TEST_LOG) process.stderr.write(chunk);
    });
    exited = new Promise((resolve) => child.once('exit', resolve));
    return child;
  };
  const directory = join(prefix, 'srv/demo-app');
  const agent: AgentProcess = {
    host,
    prefix,
    directory,
    process: spawnOne(),
    logs: () => logs,
    async reloads() {
      const log = await readFile(join(prefix, 'srv/reloads.log'), 'utf8').catch(() => '');
      return log.split('\n').filter(Boolean);
    },
    file: (path) => readFile(join(directory, path), 'utf8').catch(() => undefined),
    async restart() {
      agent.process = spawnOne();
    },
    async kill(signal = 'SIGKILL') {
      agent.process.kill(signal);
      await exited;
    },
    async close() {
      agent.process.kill('SIGTERM');
      await exited;
      await rm(prefix, { recursive: true, force: true });
    },
  };
  return agent;
}

/** The agent's record in ZooKeeper, or undefined while it has none. */
export async function agentRecord(f: SyncerFixture, host: string): Promise<AgentRecord | undefined> {
  const node = await f.session.getIfExists(f.layout.agent(host));
  return node ? decodeAgentRecord(node.data, f.layout.agent(host)) : undefined;
}

/** Waits until the agent reports the demo service in dev as `predicate` wants it. */
export async function demoStatus(
  f: SyncerFixture,
  host: string,
  predicate: (status: AgentServiceStatus) => boolean,
  description: string,
  timeoutMs = 30_000,
): Promise<AgentServiceStatus> {
  return waitFor(
    async () => {
      const status = (await agentRecord(f, host))?.services['demo-app/dev'];
      return status && predicate(status) ? status : undefined;
    },
    { description, timeoutMs },
  );
}

/** Commits files, pushes, and mirrors the commit into ZooKeeper; returns its sha. */
export async function publish(
  f: SyncerFixture,
  mirror: Mirror,
  message: string,
  files: Record<string, string | null>,
): Promise<string> {
  await f.work.write(files);
  const commit = await f.work.commit(message);
  await f.work.push(f.repoUrl);
  const outcome = await mirror.sync(f.target);
  if (outcome.kind !== 'mirrored') throw new Error(`expected ${commit} mirrored, got ${outcome.kind}`);
  return commit;
}
