import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  type AclPrincipalsRecord,
  decodeAclPrincipalsRecord,
  encodeAclPrincipalsRecord,
} from './records/acl-principals-record.js';
import { AclPolicy, formatAcl, matchesPolicy, sameAcl } from './zk-acl-policy.js';
import { ZkLayout } from './zk-layout.js';
import { digestAclId, ZK_OPEN_ACL, ZK_PERMS } from './zookeeper/zk-acl.js';
import { parseCredentialsList, readCredentialsFile } from './zookeeper/zk-credentials.js';

const { READ, WRITE, CREATE, DELETE, ALL } = ZK_PERMS;
const layout = new ZkLayout('/cairn');
const id = (user: string) => digestAclId(`${user}:secret-of-${user}`);
const principals: AclPrincipalsRecord = {
  roles: {
    syncer: id('cairn-syncer'),
    agent: id('cairn-agent'),
    sdk: id('cairn-sdk'),
    operator: id('cairn-operator'),
  },
  hosts: { 'web-1': id('agent-web-1'), 'web-2': id('agent-web-2') },
};
const policy = new AclPolicy(layout, principals);

/** What the policy grants each principal on a path, by name. */
function grants(path: string): Record<string, number> {
  const byId = new Map(policy.aclFor(path).map((entry) => [entry.id, entry.perms]));
  const named: Record<string, number> = {};
  for (const user of [
    'cairn-syncer',
    'cairn-agent',
    'cairn-sdk',
    'cairn-operator',
    'agent-web-1',
    'agent-web-2',
  ])
    if (byId.has(id(user))) named[user] = byId.get(id(user)) as number;
  return named;
}

const readers = { 'cairn-syncer': ALL, 'cairn-agent': READ, 'cairn-sdk': READ, 'cairn-operator': READ };
const d = 'd-0000000001';

describe('ZkLayout.kindOf', () => {
  it.each([
    [layout.root, 'root'],
    [layout.principals(), 'principals'],
    [layout.head(), 'head'],
    [layout.refused(), 'refused'],
    [layout.historyRecord(3), 'history-record'],
    [layout.contentShards()[7] as string, 'content-shard'],
    [layout.content('0123456789abcdef0123456789abcdef01234567'), 'content'],
    [layout.environment('web', 'prod'), 'environment'],
    [layout.service('web'), 'service'],
    [layout.release('web', 'prod'), 'release'],
    [layout.deployments('web', 'prod'), 'deployments-environment'],
    [layout.deployment('web', 'prod', d), 'deployment'],
    [layout.deploymentTasks('web', 'prod', d), 'deployment-tasks'],
    [layout.deploymentClaims('web', 'prod', d), 'deployment-claims'],
    [layout.deploymentControls('web', 'prod', d), 'deployment-controls'],
    [layout.deploymentControl('web', 'prod', d, 'action-0000000002'), 'deployment-control'],
    [layout.deploymentLogs('web', 'prod', d), 'deployment-logs'],
    [layout.pin('p'), 'pin'],
    [layout.assignments('web', 'prod'), 'assignments-environment'],
    [layout.assignment('web', 'prod', 'web-1'), 'assignment'],
    [layout.instances('web', 'prod'), 'instances-environment'],
    [layout.instance('web', 'prod', 'i-1'), 'instance'],
    [layout.syncerCandidate('candidate-0000000001'), 'syncer-candidate'],
    [layout.election('web', 'prod', 'export'), 'election'],
    [layout.electionCandidate('web', 'prod', 'export', 'candidate-0000000001'), 'election-candidate'],
    ['/cairn/elsewhere', 'unknown'],
    [`${layout.deployment('web', 'prod', d)}/extra`, 'unknown'],
    ['/other', 'outside'],
    ['/cairnish/head', 'outside'],
  ])('reads %s as a %s node', (path, kind) => {
    expect(layout.kindOf(path)).toEqual({ kind });
  });

  it.each([
    [layout.agent('web-1'), 'agent'],
    [layout.deploymentTask('web', 'prod', d, 'web-1'), 'deployment-task'],
    [layout.deploymentClaim('web', 'prod', d, 'web-1'), 'deployment-claim'],
    [layout.deploymentLog('web', 'prod', d, 'web-1'), 'deployment-log'],
    [layout.deploymentLogChunk('web', 'prod', d, 'web-1', 4), 'deployment-log-chunk'],
  ])('reads %s as the %s of host web-1', (path, kind) => {
    expect(layout.kindOf(path)).toEqual({ kind, host: 'web-1' });
  });

  it('lists the elections folder among the fixed folders, so no other role must create under the root', () => {
    expect(layout.fixedFolders()).toContain(layout.electionsDir());
  });
});

describe('AclPolicy', () => {
  it('gives configuration, content and the head to the syncer alone; every role reads them', () => {
    for (const path of [
      layout.root,
      layout.principals(),
      layout.head(),
      layout.environment('web', 'prod'),
      // The snapshot a host serves during a configuration rollout: the controller's to set, not the host's.
      layout.assignment('web', 'prod', 'web-1'),
      layout.content('0123456789abcdef0123456789abcdef01234567'),
      layout.service('web'),
      layout.release('web', 'prod'),
      layout.deployment('web', 'prod', d),
      layout.syncersDir(),
      '/cairn/elsewhere',
    ])
      expect(grants(path), path).toEqual(readers);
  });

  it("lets a host's agent write its own record and task, and nobody else's", () => {
    expect(grants(layout.agent('web-1'))).toEqual({ ...readers, 'agent-web-1': READ | WRITE });
    expect(grants(layout.deploymentTask('web', 'prod', d, 'web-2'))).toEqual({
      ...readers,
      'agent-web-2': READ | WRITE,
    });
    expect(grants(layout.deploymentClaim('web', 'prod', d, 'web-1'))).toEqual({
      ...readers,
      'agent-web-1': READ | WRITE,
    });
    expect(grants(layout.deploymentLog('web', 'prod', d, 'web-1'))).toEqual({
      ...readers,
      'agent-web-1': READ | CREATE | DELETE,
    });
  });

  it('lets agents add their records, claims and logs to the folders that hold them', () => {
    expect(grants(layout.agentsDir())).toEqual({ ...readers, 'cairn-agent': READ | CREATE | DELETE });
    expect(grants(layout.deploymentClaims('web', 'prod', d))).toEqual({
      ...readers,
      'cairn-agent': READ | CREATE | DELETE,
    });
    expect(grants(layout.deploymentLogs('web', 'prod', d))).toEqual({
      ...readers,
      'cairn-agent': READ | CREATE,
    });
  });

  it('lets the SDK create instance and election nodes, and nothing else', () => {
    expect(grants(layout.instancesDir())).toEqual({ ...readers, 'cairn-sdk': READ | CREATE });
    expect(grants(layout.instances('web', 'prod'))).toEqual({
      ...readers,
      'cairn-sdk': READ | CREATE | DELETE,
    });
    expect(grants(layout.instance('web', 'prod', 'i-1'))).toEqual({ ...readers, 'cairn-sdk': READ | WRITE });
    expect(grants(layout.election('web', 'prod', 'export'))).toEqual({
      ...readers,
      'cairn-sdk': READ | CREATE | DELETE,
    });
  });

  it('lets operators add control actions, which stay as written', () => {
    expect(grants(layout.deploymentControls('web', 'prod', d))).toEqual({
      ...readers,
      'cairn-operator': READ | CREATE,
    });
    expect(grants(layout.deploymentControl('web', 'prod', d, 'action-0000000001'))).toEqual(readers);
  });

  it('gives a host without a credential of its own nothing to write', () => {
    expect(grants(layout.deploymentTask('web', 'prod', d, 'web-9'))).toEqual(readers);
  });

  it('leaves nodes outside the root open', () => {
    expect(policy.aclFor('/elsewhere/x')).toEqual(ZK_OPEN_ACL);
  });
});

describe('sameAcl and formatAcl', () => {
  it('compare entries whatever their order, and show permissions as letters', () => {
    const acl = policy.aclFor(layout.agent('web-1'));
    expect(sameAcl(acl, [...acl].reverse())).toBe(true);
    expect(sameAcl(acl, acl.slice(1))).toBe(false);
    expect(sameAcl(ZK_OPEN_ACL, [{ ...ZK_OPEN_ACL[0]!, perms: READ }])).toBe(false);
    expect(formatAcl(ZK_OPEN_ACL)).toBe('world:anyone=rwcda');
    expect(formatAcl([{ scheme: 'digest', id: 'u:x', perms: READ | CREATE }])).toBe('digest:u:x=rc');
  });
});

describe('matchesPolicy', () => {
  it('compares users and permissions where ZooKeeper hides the hashes, everything where it shows them', () => {
    const expected = policy.aclFor(layout.head());
    const hidden = expected.map((entry) => ({ ...entry, id: `${entry.id.split(':')[0]}:x` }));
    expect(matchesPolicy(expected, expected)).toBe(true);
    expect(matchesPolicy(hidden, expected)).toBe(true);
    expect(matchesPolicy(hidden.slice(1), expected)).toBe(false);
    expect(matchesPolicy([{ ...hidden[0]!, perms: READ }, ...hidden.slice(1)], expected)).toBe(false);
    const otherSyncer = [{ ...expected[0]!, id: id('cairn-syncer-2') }, ...expected.slice(1)];
    expect(matchesPolicy(otherSyncer, expected)).toBe(false);
  });
});

describe('the principals record', () => {
  it('round-trips, and refuses a password where a digest id belongs', () => {
    expect(decodeAclPrincipalsRecord(encodeAclPrincipalsRecord(principals))).toEqual(principals);
    const leaked = { ...principals, roles: { ...principals.roles, sdk: 'cairn-sdk:plain-password' } };
    expect(() => decodeAclPrincipalsRecord(encodeAclPrincipalsRecord(leaked), '/cairn/principals')).toThrow(
      expect.objectContaining({ code: 'CORRUPT_RECORD', message: expect.stringContaining('roles.sdk') }),
    );
  });
});

describe('credentials', () => {
  it('keep the password out of JSON and inspect', () => {
    const [role, host] = parseCredentialsList('cairn-agent:pw-one,agent-web-1:pw-two', '--auth');
    expect(role?.credentials).toBe('cairn-agent:pw-one');
    expect(host?.credentials).toBe('agent-web-1:pw-two');
    const shown = `${JSON.stringify({ auth: [role, host] })} ${inspect([role, host], { depth: 5 })}`;
    expect(shown).not.toContain('pw-one');
    expect(shown).not.toContain('pw-two');
  });

  it('name a malformed entry by its position, never echo it', () => {
    expect(() => parseCredentialsList('cairn-sdk:ok,s3cret', '--auth')).toThrow(
      expect.objectContaining({
        code: 'INVALID_SETTING',
        message: expect.stringMatching(/credentials 2 of 2/),
      }),
    );
    expect(() => parseCredentialsList('cairn-sdk:ok,s3cret', '--auth')).toThrow(
      expect.not.objectContaining({ message: expect.stringContaining('s3cret') }),
    );
  });

  it('read a credentials file, skipping comments, naming a bad line without its text', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'cairn-auth-'));
    const good = join(dir, 'agent.auth');
    await writeFile(good, '# cairn agent on web-1\ncairn-agent:pw-one\n\nagent-web-1:pw-two\n');
    expect(readCredentialsFile(good, '--zk-auth-file').map((a) => a.credentials)).toEqual([
      'cairn-agent:pw-one',
      'agent-web-1:pw-two',
    ]);
    const bad = join(dir, 'bad.auth');
    await writeFile(bad, 'cairn-agent:pw-one\nhunter2\n');
    expect(() => readCredentialsFile(bad, '--zk-auth-file')).toThrow(
      /line 2 of .*bad\.auth does not read user:password/,
    );
    expect(() => readCredentialsFile(bad, '--zk-auth-file')).toThrow(
      expect.not.objectContaining({ message: expect.stringContaining('hunter2') }),
    );
    expect(() => readCredentialsFile(join(dir, 'missing'), '--zk-auth-file')).toThrow(
      /cannot read the credentials file .*ENOENT/,
    );
    await writeFile(join(dir, 'empty'), '# nothing\n');
    expect(() => readCredentialsFile(join(dir, 'empty'), '--zk-auth-file')).toThrow(/holds no credentials/);
  });
});
