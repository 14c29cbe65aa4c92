import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeploymentNotFoundError,
  type DeploymentRecord,
  type DeploymentStatus,
  type ReleaseStrategy,
  readDeploymentStatus,
  resolveDeployment,
  ZkError,
  type ZkSession,
} from '../../core/index.js';
import type { AgentProcess } from '../agent/agent-fixture.js';
import { waitFor } from '../harness/index.js';
import type { SyncerFixture } from '../support/syncer-fixture.js';

export const SERVICE = 'deploy-app';
export const ENV = 'dev';

/** deploy-01 … deploy-<n>. */
export const hostNames = (n: number) =>
  Array.from({ length: n }, (_, i) => `deploy-${String(i + 1).padStart(2, '0')}`);

/** A service without files, deployed to `hosts` in dev. */
export function serviceYaml(hosts: readonly string[]): string {
  return [
    'apiVersion: cairn/v1',
    'description: A service the deployment tests roll out.',
    'owners: [team:platform]',
    'environments:',
    '  dev:',
    '    hosts:',
    ...hosts.map((host) => `      - host: ${host}`),
    '',
  ].join('\n');
}

/**
 * A release whose deploy command does what files in the agent's prefix say, per version: it logs
 * every run to runs.log, waits while gate-<version> exists, prints 10 MB for big-<version>, hangs for
 * hang-<version>, and exits 3 for fail-<version>.
 */
export function releaseYaml(
  version: string,
  strategy: ReleaseStrategy,
  deploy: { timeoutSeconds?: number } = {},
): string {
  const command = [
    'echo "$CAIRN_VERSION $CAIRN_DEPLOYMENT $CAIRN_SERVICE $CAIRN_ENV prev=$CAIRN_PREVIOUS_VERSION" >> runs.log',
    'while [ -f "gate-$CAIRN_VERSION" ]; do sleep 0.1; done',
    'if [ -f "big-$CAIRN_VERSION" ]; then yes xxxxxxxxxxxxxxx | head -c 10485760; echo END-OF-LOG; fi',
    'if [ -f "hang-$CAIRN_VERSION" ]; then sleep 60; fi',
    'if [ -f "fail-$CAIRN_VERSION" ]; then echo failing; exit 3; fi',
    'echo deployed',
  ].join('; ');
  return [
    'apiVersion: cairn/v1',
    `version: ${version}`,
    'deploy:',
    `  command: ${JSON.stringify(command)}`,
    `  timeoutSeconds: ${deploy.timeoutSeconds ?? 60}`,
    '  healthCheck:',
    '    command: test -f runs.log',
    '    timeoutSeconds: 5',
    `strategy: ${JSON.stringify(strategy)}`,
    '',
  ].join('\n');
}

export const releasePath = `services/${SERVICE}/releases/${ENV}.yaml`;
export const servicePath = `services/${SERVICE}/service.yaml`;

/** The versions this host's deploy command ran, in order (one line per run). */
export async function runsOf(agent: AgentProcess): Promise<string[]> {
  const log = await readFile(join(agent.prefix, 'runs.log'), 'utf8').catch(() => '');
  return log.split('\n').filter(Boolean);
}

export async function runsOfVersion(agent: AgentProcess, version: string): Promise<number> {
  return (await runsOf(agent)).filter((line) => line.startsWith(`${version} `)).length;
}

/** Puts a marker file (gate-, big-, hang-, fail-<version>) in the agent's prefix, or removes it. */
export async function marker(agent: AgentProcess, name: string, present = true): Promise<void> {
  const path = join(agent.prefix, name);
  if (present) await writeFile(path, '');
  else await rm(path, { force: true });
}

/**
 * Reads through the fixture's session, renewed first when it expired: on a loaded machine the
 * fixture's own session can expire while the agents and the syncer carry on.
 */
export async function readRenewing<T>(f: SyncerFixture, how: (session: ZkSession) => Promise<T>): Promise<T> {
  try {
    return await how(f.session);
  } catch (error) {
    if (!(error instanceof ZkError)) throw error;
    await f.renewSession(60_000);
    return how(f.session);
  }
}

export async function status(f: SyncerFixture): Promise<DeploymentStatus | undefined> {
  try {
    const ref = await resolveDeployment(f.session, f.layout, { service: SERVICE, env: ENV });
    return await readDeploymentStatus(f.session, f.layout, ref);
  } catch (error) {
    // On a loaded machine the fixture's own session can expire while the agents and the syncer
    // carry on: start a new one, and look again at the next poll.
    if (error instanceof ZkError) await f.renewSession(60_000);
    else if (!(error instanceof DeploymentNotFoundError)) throw error;
    return undefined; // no deployment yet
  }
}

/** Waits until the newest deployment is of `version` and `predicate` holds. */
export async function waitForDeployment(
  f: SyncerFixture,
  version: string,
  predicate: (status: DeploymentStatus) => boolean,
  description: string,
  timeoutMs = 180_000,
): Promise<DeploymentStatus> {
  let seen: DeploymentStatus | undefined;
  try {
    return await waitFor(
      async () => {
        const s = await status(f);
        seen = s ?? seen;
        return s && s.deployment.release.version === version && predicate(s) ? s : undefined;
      },
      { description, timeoutMs, intervalMs: 100 },
    );
  } catch (error) {
    // What the deployment looked like last says where a rollout stalled.
    if (!(error instanceof Error) || seen === undefined) throw error;
    const { deployment, tasks } = seen;
    const hosts = Object.entries(tasks).map(([host, task]) => `${host}=${task?.state}`);
    throw new Error(
      `${error.message}; last seen: ${deployment.release.version} ${deployment.state}, tasks ${hosts.join(' ') || 'none'}, transitions ${JSON.stringify(deployment.transitions.slice(-4))}`,
      { cause: error },
    );
  }
}

export const inState =
  (...states: DeploymentRecord['state'][]) =>
  (s: DeploymentStatus) =>
    states.includes(s.deployment.state);

/** Paused, and for this reason: after a canary, or waiting for a drain, say. */
export const pausedFor = (reason: NonNullable<DeploymentRecord['pauseReason']>) => (s: DeploymentStatus) =>
  s.deployment.state === 'paused' && s.deployment.pauseReason === reason;
