import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceEnvironment } from '../config-repo.js';
import { type AgentRecord, decodeAgentRecord, encodeAgentRecord } from './agent-record.js';
import { APPROVAL_RECORD_FORMAT, decodeApprovalRecord, serializeApprovalRecord } from './approval-record.js';
import { decodeEnvironmentManifest, encodeEnvironmentManifest } from './environment-manifest.js';
import { decodeEnvironmentPointer, encodeEnvironmentPointer } from './environment-pointer.js';
import { decodeHeadRecord, encodeHeadRecord, type HeadRecord } from './head-record.js';
import { decodeHistoryRecord, encodeHistoryRecord, type HistoryRecord } from './history-record.js';
import { decodeHostAssignmentRecord, encodeHostAssignmentRecord } from './host-assignment-record.js';
import { decodeInstanceRecord, encodeInstanceRecord, type InstanceRecord } from './instance-record.js';
import { decodePinRecord, encodePinRecord } from './pin-record.js';
import { CorruptRecordError } from './record-fields.js';
import { decodeRefusalRecord, encodeRefusalRecord, MAX_REFUSAL_DIAGNOSTICS } from './refusal-record.js';
import { decodeReleaseRecord, encodeReleaseRecord } from './release-record.js';
import { MAX_MESSAGE_LENGTH, type Revision } from './revision.js';
import { decodeServiceRecord, encodeServiceRecord, type ServiceRecord } from './service-record.js';

const sha = (c: string) => c.repeat(40);
const revision: Revision = {
  commit: sha('a'),
  author: { name: 'Ada Lovelace', email: 'ada@northwind.example' },
  message: 'Tune ranking for the winter catalogue',
  time: '2026-11-23T10:00:00.000Z',
};
const head: HeadRecord = {
  seq: 7,
  ...revision,
  tree: sha('b'),
  syncedAt: '2026-11-23T10:00:01.000Z',
  environments: { dev: revision, prod: { ...revision, commit: sha('c'), tag: 'v2.14.0' } },
  previous: sha('d'),
};
const bytes = (text: string) => Buffer.from(text, 'utf8');

/** Every decoder refuses what is not its record, with a coded error naming the node. */
function expectCorrupt(decode: (data: Uint8Array, path: string) => unknown, data: string, field: string) {
  let thrown: unknown;
  try {
    decode(bytes(data), '/cairn/some/node');
  } catch (error) {
    thrown = error;
  }
  expect(thrown, data).toBeInstanceOf(CorruptRecordError);
  expect((thrown as CorruptRecordError).code).toBe('CORRUPT_RECORD');
  expect((thrown as Error).message).toContain('/cairn/some/node');
  expect((thrown as Error).message).toContain(field);
}

describe('the head record', () => {
  it('round-trips', () => {
    expect(decodeHeadRecord(encodeHeadRecord(head))).toEqual(head);
  });

  it('bounds long commit messages, its own and its environments’', () => {
    const long = 'x'.repeat(MAX_MESSAGE_LENGTH + 100);
    const decoded = decodeHeadRecord(
      encodeHeadRecord({ ...head, message: long, environments: { dev: { ...revision, message: long } } }),
    );
    expect(decoded.message).toHaveLength(MAX_MESSAGE_LENGTH + 1);
    expect(decoded.environments.dev?.message).toHaveLength(MAX_MESSAGE_LENGTH + 1);
  });

  it('refuses what is not a head record', () => {
    expectCorrupt(decodeHeadRecord, 'not json', 'not JSON');
    expectCorrupt(decodeHeadRecord, '[]', 'JSON object');
    expectCorrupt(decodeHeadRecord, JSON.stringify({ ...head, commit: 'HEAD' }), 'commit');
    expectCorrupt(decodeHeadRecord, JSON.stringify({ ...head, seq: 0 }), 'seq');
    expectCorrupt(
      decodeHeadRecord,
      JSON.stringify({ ...head, environments: { prod: { ...revision, author: 'x' } } }),
      'environments.prod.author',
    );
  });
});

describe('the history record', () => {
  const record: HistoryRecord = {
    ...head,
    changed: ['services/recommender/config/application.yaml'],
    changedCount: 1,
    snapshots: [
      { service: 'recommender', env: 'dev', from: sha('1'), to: sha('2') },
      { service: 'search-api', env: 'dev', to: sha('3') },
    ],
  };

  it('round-trips, with or without an approval record', () => {
    expect(decodeHistoryRecord(encodeHistoryRecord(record))).toEqual(record);
    const approvals = {
      format: APPROVAL_RECORD_FORMAT,
      repository: 'northwind/config',
      pr: 42,
      mergeCommit: sha('a'),
      headSha: sha('e'),
      baseRef: 'main',
      policyCommit: sha('f'),
      mergedBy: 'ada',
      satisfied: true,
      rules: [
        {
          rule: 'prod',
          satisfied: true,
          satisfiedBy: [{ login: 'grace', approvedSha: sha('e'), submittedAt: '2026-11-23T09:00:00Z' }],
        },
      ],
      recordedAt: '2026-11-23T10:00:05.000Z',
    } as const;
    expect(decodeHistoryRecord(encodeHistoryRecord({ ...record, approvals }))).toEqual({
      ...record,
      approvals,
    });
    const omitted = { ...record, approvals: { omitted: 'the note is not JSON' } };
    expect(decodeHistoryRecord(encodeHistoryRecord(omitted))).toEqual(omitted);
  });

  it('keeps at most 200 changed paths, and says how many there were', () => {
    const changed = Array.from({ length: 250 }, (_, i) => `services/a/config/f${i}.yaml`);
    const decoded = decodeHistoryRecord(encodeHistoryRecord({ ...record, changed, changedCount: 250 }));
    expect(decoded.changed).toHaveLength(200);
    expect(decoded.changedCount).toBe(250);
  });

  it('refuses snapshot changes that do not name content', () => {
    expectCorrupt(
      decodeHistoryRecord,
      JSON.stringify({ ...record, snapshots: [{ service: 'a', env: 'dev', to: 'nope' }] }),
      'snapshots[0].to',
    );
  });
});

describe('the environment pointer and manifest', () => {
  it('round-trip', () => {
    const pointer = { revision: { ...revision, tag: 'v1' }, manifest: sha('9'), files: 3, bytes: 1024 };
    expect(decodeEnvironmentPointer(encodeEnvironmentPointer(pointer))).toEqual(pointer);
    const manifest = {
      files: new Map([
        ['a.yaml', sha('1')],
        ['rules/b.yaml', sha('2')],
      ]),
    };
    expect(decodeEnvironmentManifest(encodeEnvironmentManifest(manifest))).toEqual(manifest);
  });

  it('encodes a manifest the same whatever the order of its entries, so equal manifests share an id', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.tuple(
            // Prefixed segments: a bare one could be a reserved device name (`nul`, `con`…) and be refused.
            fc.stringMatching(/^cfg-[a-z]{1,8}(\/sub-[a-z]{1,8})?\.yaml$/),
            fc.stringMatching(/^[0-9a-f]{40}$/),
          ),
          {
            selector: ([path]) => path,
          },
        ),
        (entries) => {
          const forward = encodeEnvironmentManifest({ files: new Map(entries) });
          const backward = encodeEnvironmentManifest({ files: new Map([...entries].reverse()) });
          expect(Buffer.from(forward).equals(backward)).toBe(true);
          expect([...decodeEnvironmentManifest(forward).files]).toEqual(
            [...entries].sort(([a], [b]) => (a < b ? -1 : 1)),
          );
        },
      ),
    );
  });

  it('refuses a manifest whose paths could escape the service’s folder on a host', () => {
    for (const path of ['../etc/passwd', '/etc/passwd', 'a//b', 'a\\\\b'])
      expectCorrupt(
        decodeEnvironmentManifest,
        JSON.stringify({ files: { [path]: sha('1') } }),
        'safe file path',
      );
    expectCorrupt(decodeEnvironmentManifest, JSON.stringify({ files: { 'a.yaml': 'zz' } }), 'files.a.yaml');
  });

  it('refuses a pointer without a manifest id', () => {
    expectCorrupt(
      decodeEnvironmentPointer,
      JSON.stringify({ revision, manifest: '../../head', files: 1, bytes: 1 }),
      'manifest',
    );
    expectCorrupt(decodeEnvironmentPointer, JSON.stringify({ files: {} }), 'revision');
  });
});

describe('the service record', () => {
  const record: ServiceRecord = {
    name: 'recommender',
    description: 'Ranks the catalogue',
    owners: ['team:recsys'],
    port: 8080,
    files: { directory: '/etc/recommender', mode: '0640', prune: false },
    dependsOn: ['search-api'],
    environments: {
      prod: {
        name: 'prod',
        loadBalancing: 'consistent-hash',
        reload: 'systemctl reload recommender',
        hosts: [{ host: 'rec-01', weight: 100, labels: { dc: 'dc1' } }],
      },
    },
  };

  it('round-trips', () => {
    expect(decodeServiceRecord(encodeServiceRecord(record))).toEqual(record);
    const steered: ServiceRecord = {
      ...record,
      steering: [{ env: 'prod', rule: 'prod-steering', actions: ['abort'], from: ['user:ines-ortega'] }],
    };
    expect(decodeServiceRecord(encodeServiceRecord(steered))).toEqual(steered);
  });

  it('refuses steering grants with an unknown action or a principal that is not a user', () => {
    const grant = { env: 'prod', rule: 'r', actions: ['abort'], from: ['user:ines'] };
    for (const bad of [
      { ...grant, actions: ['restart'] },
      { ...grant, from: ['team:sre'] },
    ])
      expectCorrupt(
        decodeServiceRecord,
        JSON.stringify({ ...record, steering: [bad] }),
        bad.actions[0] === 'restart' ? 'steering[0].actions' : 'steering[0].from',
      );
  });

  it('fills the defaults of what a record leaves out, in one place', () => {
    const sparse = {
      name: 'api',
      owners: [],
      files: { directory: '/etc/api' },
      environments: { dev: { hosts: [{ host: 'api-01' }] } },
    };
    expect(decodeServiceRecord(bytes(JSON.stringify(sparse)))).toEqual({
      name: 'api',
      description: '',
      owners: [],
      files: { directory: '/etc/api', mode: '0644', prune: false },
      dependsOn: [],
      environments: {
        dev: {
          name: 'dev',
          loadBalancing: 'weighted-round-robin',
          hosts: [{ host: 'api-01', weight: 100, labels: {} }],
        },
      },
    });
  });

  it('carries drainDuringDeploys where an environment drains, and refuses anything but true', () => {
    const draining: ServiceRecord = {
      ...record,
      environments: {
        prod: { ...(record.environments.prod as ServiceEnvironment), drainDuringDeploys: true },
      },
    };
    expect(decodeServiceRecord(encodeServiceRecord(draining))).toEqual(draining);
    for (const bad of [false, 'yes'])
      expectCorrupt(
        decodeServiceRecord,
        JSON.stringify({ ...record, environments: { prod: { hosts: [], drainDuringDeploys: bad } } }),
        'drainDuringDeploys',
      );
  });

  it('refuses unknown strategies and negative weights', () => {
    expectCorrupt(
      decodeServiceRecord,
      JSON.stringify({ ...record, environments: { prod: { loadBalancing: 'random', hosts: [] } } }),
      'loadBalancing',
    );
    expectCorrupt(
      decodeServiceRecord,
      JSON.stringify({ ...record, environments: { prod: { hosts: [{ host: 'a', weight: -1 }] } } }),
      'weight',
    );
  });
});

describe('the release record', () => {
  const release = {
    apiVersion: 'cairn/v1' as const,
    version: '2.14.0',
    deploy: {
      command: './deploy.sh',
      timeoutSeconds: 600,
      healthCheck: { command: 'curl -f localhost:8080/healthz' },
    },
    strategy: { canary: { hosts: 1, bakeSeconds: 300 }, batchSize: '25%' as const, maxFailedHosts: 1 },
  };

  it('round-trips', () => {
    expect(decodeReleaseRecord(encodeReleaseRecord(release))).toEqual(release);
  });

  it('refuses a strategy without a batch size a rollout can use', () => {
    expectCorrupt(
      decodeReleaseRecord,
      JSON.stringify({ ...release, strategy: { batchSize: 0 } }),
      'batchSize',
    );
    expectCorrupt(
      decodeReleaseRecord,
      JSON.stringify({ ...release, strategy: { batchSize: 'half' } }),
      'batchSize',
    );
    expectCorrupt(decodeReleaseRecord, JSON.stringify({ ...release, apiVersion: 'v2' }), 'apiVersion');
  });
});

describe('the instance record', () => {
  const record: InstanceRecord = {
    id: 'rec-prod-01-4242-a1b2c3',
    service: 'recommender',
    env: 'prod',
    host: 'rec-prod-01.dc1.northwind.internal',
    port: 8080,
    pid: 4242,
    startedAt: '2025-01-01T00:00:00.000Z',
    commit: sha('c'),
    appliedAt: '2025-01-01T00:00:01.000Z',
    source: 'zookeeper',
    files: { 'application.yaml': sha('f') },
    rejected: { commit: sha('d'), reason: 'application.yaml: bad' },
  };

  it('round-trips', () => {
    expect(decodeInstanceRecord(encodeInstanceRecord(record))).toEqual(record);
  });

  it('refuses what is not a record, rather than guessing', () => {
    expectCorrupt(decodeInstanceRecord, '', 'not JSON');
    expectCorrupt(decodeInstanceRecord, 'null', 'JSON object');
    expectCorrupt(decodeInstanceRecord, '{"id":"x"}', 'host');
    expectCorrupt(decodeInstanceRecord, '{"id":"x","host":"h","pid":"1","startedAt":"t"}', 'pid');
    expectCorrupt(decodeInstanceRecord, '{"id":"x","host":"h","pid":1,"startedAt":"t","port":"80"}', 'port');
  });
});

describe('configuration riding a rollout', () => {
  it('round-trips a pointer’s rollout with and without a baseline, and refuses a baseline that is not content', () => {
    const pointer = { revision, manifest: sha('9'), files: 3, bytes: 1024 };
    const held = {
      ...pointer,
      rollout: { baseline: { manifest: sha('8'), revision: { ...revision, commit: sha('7') } } },
    };
    expect(decodeEnvironmentPointer(encodeEnvironmentPointer(held))).toEqual(held);
    const riding = { ...pointer, rollout: {} };
    expect(decodeEnvironmentPointer(encodeEnvironmentPointer(riding))).toEqual(riding);
    expectCorrupt(
      decodeEnvironmentPointer,
      JSON.stringify({ ...held, rollout: { baseline: { manifest: 'x', revision } } }),
      'rollout.baseline.manifest',
    );
  });

  it('round-trips a host’s assignment, and refuses one without a deployment or with a bad manifest', () => {
    const assignment = {
      host: 'rec-prod-01',
      manifest: sha('9'),
      revision,
      deployment: 'd-0000000003',
      at: '2026-11-23T10:00:00.000Z',
    };
    expect(decodeHostAssignmentRecord(encodeHostAssignmentRecord(assignment))).toEqual(assignment);
    expectCorrupt(decodeHostAssignmentRecord, JSON.stringify({ ...assignment, deployment: 7 }), 'deployment');
    expectCorrupt(decodeHostAssignmentRecord, JSON.stringify({ ...assignment, manifest: 'abc' }), 'manifest');
    expectCorrupt(
      decodeHostAssignmentRecord,
      JSON.stringify({ ...assignment, deployment: undefined }),
      'deployment',
    );
  });

  it('round-trips a drain’s assignment, which names the draining hosts by service instead of a deployment', () => {
    const { deployment: _, ...rest } = {
      host: 'edge-prod-01',
      manifest: sha('9'),
      revision,
      deployment: 'd-0000000003',
      at: '2026-11-23T10:00:00.000Z',
    };
    const drains: Record<string, string[]>[] = [
      { recommender: ['rec-prod-01'], 'search-api': ['search-prod-02'] },
      {},
    ];
    for (const drain of drains) {
      const assignment = { ...rest, drain };
      expect(decodeHostAssignmentRecord(encodeHostAssignmentRecord(assignment))).toEqual(assignment);
    }
    expectCorrupt(decodeHostAssignmentRecord, JSON.stringify({ ...rest, drain: 'recommender' }), 'drain');
    expectCorrupt(
      decodeHostAssignmentRecord,
      JSON.stringify({ ...rest, drain: { recommender: 'rec-prod-01' } }),
      'drain.recommender',
    );
  });
});

describe('the pin record', () => {
  it('round-trips, and names only content', () => {
    const pin = {
      owner: 'deployment recommender/prod/7',
      reason: 'hosts not yet upgraded',
      createdAt: '2026-11-23T10:00:00.000Z',
      snapshots: [sha('1')],
    };
    expect(decodePinRecord(encodePinRecord(pin))).toEqual(pin);
    expectCorrupt(decodePinRecord, JSON.stringify({ ...pin, snapshots: ['x'] }), 'snapshots');
  });
});

describe('the refusal record', () => {
  const error = (line: number) => ({
    file: 'services/recommender/config/application.yaml',
    line,
    column: 3,
    severity: 'error' as const,
    rule: 'yaml/syntax',
    message: 'unexpected end of the flow sequence',
  });

  it('round-trips, for a branch commit and for a release tag’s', () => {
    const refusal = {
      commit: sha('a'),
      tag: 'v2.0.0',
      branchHead: sha('b'),
      refusedAt: '2026-11-23T10:00:00.000Z',
      errorCount: 1,
      diagnostics: [error(2)],
    };
    expect(decodeRefusalRecord(encodeRefusalRecord(refusal))).toEqual(refusal);
    const { tag: _, ...branchOnly } = refusal;
    expect(decodeRefusalRecord(encodeRefusalRecord(branchOnly))).toEqual(branchOnly);
  });

  it('keeps the first diagnostics of many, and counts them all', () => {
    const many = Array.from({ length: 500 }, (_, i) => error(i + 1));
    const decoded = decodeRefusalRecord(
      encodeRefusalRecord({
        commit: sha('a'),
        branchHead: sha('a'),
        refusedAt: 't',
        errorCount: many.length,
        diagnostics: many,
      }),
    );
    expect(decoded.errorCount).toBe(500);
    expect(decoded.diagnostics).toEqual(many.slice(0, MAX_REFUSAL_DIAGNOSTICS));
  });

  it('refuses what is not a refusal record', () => {
    const valid = {
      commit: sha('a'),
      branchHead: sha('a'),
      refusedAt: 't',
      errorCount: 1,
      diagnostics: [error(1)],
    };
    expectCorrupt(decodeRefusalRecord, JSON.stringify({ ...valid, commit: 'HEAD' }), 'commit');
    expectCorrupt(
      decodeRefusalRecord,
      JSON.stringify({ ...valid, diagnostics: [{ ...error(1), severity: 'fatal' }] }),
      'severity',
    );
  });
});

describe('the approval record', () => {
  it('round-trips through the note the bot writes', () => {
    const record = {
      format: APPROVAL_RECORD_FORMAT,
      repository: 'northwind/config',
      pr: 1,
      mergeCommit: sha('a'),
      headSha: sha('b'),
      baseRef: 'main',
      policyCommit: sha('c'),
      mergedBy: null,
      satisfied: false,
      rules: [],
      recordedAt: '2026-11-23T10:00:05.000Z',
    } as const;
    expect(decodeApprovalRecord(serializeApprovalRecord(record))).toEqual(record);
    expect(() => decodeApprovalRecord(JSON.stringify({ ...record, format: 'other/v1' }))).toThrow(
      CorruptRecordError,
    );
  });
});

describe('the agent record', () => {
  const record: AgentRecord = {
    host: 'edge-prod-01.dc1.northwind.internal',
    pid: 4242,
    startedAt: '2026-11-23T10:00:00.000Z',
    services: {
      'edge-gateway/prod': {
        service: 'edge-gateway',
        env: 'prod',
        directory: '/etc/nginx',
        state: 'rejected',
        commit: sha('a'),
        manifest: sha('1'),
        appliedAt: '2026-11-23T10:00:01.000Z',
        assignment: '18446744073709551615',
        files: { 'nginx.conf': sha('2') },
        lastRun: {
          step: 'check',
          command: 'nginx -t -q',
          exitCode: 1,
          durationMs: 40,
          outputTail: 'emerg',
          at: 'now',
        },
        rejected: {
          commit: sha('b'),
          manifest: sha('3'),
          run: {
            step: 'check',
            command: 'nginx -t -q',
            exitCode: 1,
            durationMs: 40,
            outputTail: 'emerg',
            at: 'now',
          },
        },
        drift: [{ file: 'nginx.conf', since: '2026-11-23T10:05:00.000Z', repaired: true }],
      },
    },
  };

  it('round-trips', () => {
    expect(decodeAgentRecord(encodeAgentRecord(record))).toEqual(record);
  });

  it('refuses an unknown state or step', () => {
    const status = record.services['edge-gateway/prod'];
    expectCorrupt(
      decodeAgentRecord,
      JSON.stringify({ ...record, services: { x: { ...status, state: 'happy' } } }),
      'state',
    );
    expectCorrupt(
      decodeAgentRecord,
      JSON.stringify({
        ...record,
        services: { x: { ...status, lastRun: { ...status?.lastRun, step: 'deploy' } } },
      }),
      'step',
    );
  });

  it('refuses an assignment that is not a zxid in decimal', () => {
    const status = record.services['edge-gateway/prod'];
    for (const assignment of ['', '0x1f', '-1', '012', '1.5', '123456789012345678901', 42])
      expectCorrupt(
        decodeAgentRecord,
        JSON.stringify({ ...record, services: { x: { ...status, assignment } } }),
        'assignment',
      );
  });
});
