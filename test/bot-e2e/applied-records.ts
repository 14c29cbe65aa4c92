/*
 * Small, realistic records for the tests of the applied check's decisions (kept out of bot/ so the
 * build never ships them): what the syncer, agents and SDK instances write, through core's types.
 */
import type {
  AgentRecord,
  AgentServiceStatus,
  CommandRun,
  HistoryRecord,
  InstanceRecord,
  Revision,
  ServiceRecord,
  SnapshotChange,
} from '../../core/index.js';

export const sha = (c: string): string => c.repeat(40).slice(0, 40);

const AUTHOR = { name: 'Dana Dev', email: 'dana@northwind.example' };

export function revision(commit: string, tag?: string): Revision {
  return {
    commit,
    ...(tag ? { tag } : {}),
    author: AUTHOR,
    message: 'Change',
    time: '2024-12-09T09:59:00Z',
  };
}

/** The history record of the `seq`-th mirrored commit; every environment serves `commit` unless `serves` says. */
export function historyRecord(options: {
  seq: number;
  commit: string;
  syncedAt: string;
  snapshots: readonly SnapshotChange[];
  serves?: Readonly<Record<string, Revision>>;
}): HistoryRecord {
  const envs = new Set(options.snapshots.map((s) => s.env));
  return {
    seq: options.seq,
    commit: options.commit,
    tree: sha('e'),
    author: AUTHOR,
    message: 'Change',
    time: '2024-12-09T09:59:00Z',
    syncedAt: options.syncedAt,
    environments: {
      ...Object.fromEntries([...envs].map((env) => [env, revision(options.commit)])),
      ...options.serves,
    },
    changed: [],
    changedCount: 0,
    snapshots: options.snapshots,
  };
}

/** A service whose files agents write (`files`), or that reads them through the SDK (`sdk`). */
export function serviceRecord(
  name: string,
  hostsByEnv: Readonly<Record<string, readonly string[]>>,
  kind: 'files' | 'sdk' = 'files',
): ServiceRecord {
  return {
    name,
    description: '',
    owners: ['team:platform'],
    ...(kind === 'files' ? { files: { directory: `/etc/${name}`, mode: '0644', prune: false } } : {}),
    dependsOn: [],
    environments: Object.fromEntries(
      Object.entries(hostsByEnv).map(([env, hosts]) => [
        env,
        {
          name: env,
          loadBalancing: 'weighted-round-robin',
          hosts: hosts.map((host) => ({ host, weight: 1, labels: {} })),
        },
      ]),
    ),
  };
}

export const FAILED_CHECK: CommandRun = {
  step: 'check',
  command: 'nginx -t -c nginx.conf',
  exitCode: 1,
  durationMs: 31,
  outputTail:
    'nginx: [emerg] unknown directive "upstrem" in /etc/nginx/conf.d/upstreams.conf:3\nnginx: configuration file nginx.conf test failed\n',
  at: '2024-12-09T10:00:07Z',
};

/** An agent's record with one service in one environment. */
export function agentRecord(
  host: string,
  service: string,
  env: string,
  status: Partial<AgentServiceStatus> & Pick<AgentServiceStatus, 'state'>,
): AgentRecord {
  return {
    host,
    pid: 4242,
    startedAt: '2024-12-09T08:00:00Z',
    services: {
      [`${service}/${env}`]: { service, env, directory: `/etc/${service}`, files: {}, drift: [], ...status },
    },
  };
}

export function instanceRecord(
  id: string,
  service: string,
  env: string,
  fields: Partial<InstanceRecord> = {},
): InstanceRecord {
  return {
    id,
    service,
    env,
    host: `${service}-01`,
    port: 8080,
    pid: 77,
    startedAt: '2024-12-09T08:00:00Z',
    source: 'zookeeper',
    files: {},
    ...fields,
  };
}
