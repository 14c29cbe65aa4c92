import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectSession,
  readEnvironment,
  resolveZooKeeperEndpoint,
  ZK_OPEN_ACL,
  ZkSession,
} from '../../core/index.js';
import { runCliCaptured } from '../support/run-cli.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

const ROOT = '/secure';

describe('ZooKeeper access control by role', () => {
  let f: SyncerFixture;
  let dir: string;
  const sessions: ZkSession[] = [];
  const file = (user: string) => join(dir, `${user}.auth`);
  const env = (user?: string): NodeJS.ProcessEnv => ({
    CAIRN_ZK: f.zk.connectString,
    CAIRN_ZK_ROOT: ROOT,
    ...(user ? { CAIRN_ZK_AUTH_FILE: file(user) } : {}),
  });
  /** A session as the role whose credentials file `user` names, creating with the policy's ACLs. */
  const as = async (user: string) => {
    const session = await connectSession(resolveZooKeeperEndpoint({}, env(user)));
    sessions.push(session);
    return session;
  };
  const password = async (user: string) =>
    (await readFile(file(user), 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith(`${user}:`))
      .map((line) => line.slice(user.length + 1))[0] as string;

  beforeAll(async () => {
    // A root used without access control until now, with a mirrored commit in it.
    f = await startSyncerFixture({ root: ROOT });
    await f.newMirror().sync(f.target);
    dir = await mkdtemp(join(tmpdir(), 'cairn-acl-'));
    const init = await runCliCaptured(
      ['acl', 'init', '--host', 'web-1', '--host', 'web-2', '--out-dir', dir],
      env(),
    );
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/\/secure at .* is under access control \(\d+ existing nodes closed/);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(sessions.map((session) => session.close()));
    await f?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('hands out one credentials file per role and host, readable by its owner alone, passwords not printed', async () => {
    for (const user of [
      'cairn-syncer',
      'cairn-agent',
      'cairn-sdk',
      'cairn-operator',
      'agent-web-1',
      'agent-web-2',
    ])
      expect(((await stat(file(user))).mode & 0o777).toString(8), user).toBe('600');
    const hostFile = await readFile(file('agent-web-1'), 'utf8');
    expect(hostFile).toMatch(/^cairn-agent:\S+$/m);
    expect(hostFile).toMatch(/^agent-web-1:\S+$/m);
  });

  it('lets a session without credentials neither read nor write the root', async () => {
    const stranger = await ZkSession.connect({ connectString: f.zk.connectString });
    sessions.push(stranger);
    const layout = f.layout;
    await expect(stranger.get(layout.head())).rejects.toMatchObject({ code: 'NO_AUTH' });
    await expect(stranger.children(layout.configDir())).rejects.toMatchObject({ code: 'NO_AUTH' });
    await expect(stranger.get(layout.principals())).rejects.toMatchObject({ code: 'NO_AUTH' });
    await expect(stranger.set(layout.head(), Buffer.from('{}'))).rejects.toMatchObject({ code: 'NO_AUTH' });
    await expect(stranger.create(`${layout.configDir()}/evil`)).rejects.toMatchObject({ code: 'NO_AUTH' });
    const status = await runCliCaptured(['status'], env());
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/^cairn: .*NO_AUTH.*credentials/);
    expect(status.stderr).not.toMatch(/\n\s+at /);
  });

  it('lets an SDK credential read configuration and register its instance, and change nothing else', async () => {
    const sdk = await as('cairn-sdk');
    const layout = f.layout;
    const read = await readEnvironment(sdk, layout, 'recommender', 'prod');
    expect(read.kind).toBe('snapshot');
    const pointer = layout.environment('recommender', 'prod');
    await expect(sdk.set(pointer, Buffer.from('{}'))).rejects.toMatchObject({ code: 'NO_AUTH' });
    await expect(sdk.remove(pointer)).rejects.toMatchObject({ code: 'NO_AUTH' });
    await expect(sdk.create(layout.environment('recommender', 'evil'))).rejects.toMatchObject({
      code: 'NO_AUTH',
    });
    await expect(sdk.set(layout.service('recommender'), Buffer.from('{}'))).rejects.toMatchObject({
      code: 'NO_AUTH',
    });
    await expect(sdk.setAcl(pointer, ZK_OPEN_ACL)).rejects.toMatchObject({ code: 'NO_AUTH' });
    await expect(sdk.set(layout.principals(), Buffer.from('{}'))).rejects.toMatchObject({ code: 'NO_AUTH' });
    const instance = layout.instance('recommender', 'prod', 'i-1');
    await sdk.mkdirp(layout.instances('recommender', 'prod'));
    await sdk.create(instance, Buffer.from('{}'), 'ephemeral');
    await sdk.set(instance, Buffer.from('{"applied":true}'));
    const check = await runCliCaptured(['acl', 'check'], env('cairn-operator'));
    expect(check.stdout).toMatch(/^every node under \/secure has the ACL of its policy \(\d+ checked\)/);
    expect(check.code).toBe(0);
  });

  it("lets an agent write its own record and task, never another host's", async () => {
    const layout = f.layout;
    const syncer = await as('cairn-syncer');
    const task = (host: string) => layout.deploymentTask('recommender', 'prod', 'd-0000000001', host);
    await syncer.mkdirp(layout.deploymentTasks('recommender', 'prod', 'd-0000000001'));
    for (const host of ['web-1', 'web-2'])
      await syncer.create(task(host), Buffer.from('{"state":"pending"}'));
    const web1 = await as('agent-web-1');
    const web2 = await as('agent-web-2');
    await web1.create(layout.agent('web-1'), Buffer.from('{}'), 'ephemeral');
    await web1.set(layout.agent('web-1'), Buffer.from('{"applied":1}'));
    await web1.set(task('web-1'), Buffer.from('{"state":"claimed"}'));
    await expect(web2.set(layout.agent('web-1'), Buffer.from('{}'))).rejects.toMatchObject({
      code: 'NO_AUTH',
    });
    await expect(web2.set(task('web-1'), Buffer.from('{"state":"failed"}'))).rejects.toMatchObject({
      code: 'NO_AUTH',
    });
    await expect(
      web2.set(layout.environment('recommender', 'prod'), Buffer.from('{}')),
    ).rejects.toMatchObject({
      code: 'NO_AUTH',
    });
    expect((await syncer.get(task('web-1'))).data.toString()).toBe('{"state":"claimed"}');
  });

  it('gives a host added later its own credential, and its existing task at once', async () => {
    const layout = f.layout;
    const syncer = await as('cairn-syncer');
    const task = layout.deploymentTask('recommender', 'prod', 'd-0000000001', 'web-3');
    await syncer.mkdirp(layout.deploymentTasks('recommender', 'prod', 'd-0000000001'));
    await syncer.create(task, Buffer.from('{"state":"pending"}'));
    const refused = await runCliCaptured(['acl', 'add-host', 'web-3'], env('cairn-operator'));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/only the syncer's credentials may add hosts/);
    const added = await runCliCaptured(['acl', 'add-host', 'web-3', '--out-dir', dir], env('cairn-syncer'));
    expect(added.code, added.stderr).toBe(0);
    const hostFile = await readFile(file('agent-web-3'), 'utf8');
    expect(hostFile).toMatch(/^cairn-agent:\S+$/m);
    expect(hostFile).toMatch(/^agent-web-3:\S+$/m);
    const web3 = await as('agent-web-3');
    await web3.set(task, Buffer.from('{"state":"claimed"}'));
    const web1 = await as('agent-web-1');
    await expect(web1.set(task, Buffer.from('{}'))).rejects.toMatchObject({ code: 'NO_AUTH' });
  });

  it('finds a node whose ACL was changed by hand, and the syncer gives it its policy ACL again', async () => {
    const layout = f.layout;
    const syncer = await as('cairn-syncer');
    const pointer = layout.environment('search-api', 'prod');
    await syncer.setAcl(pointer, ZK_OPEN_ACL);
    const text = await runCliCaptured(['acl', 'check'], env('cairn-operator'));
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(
      `${pointer}\n  is:        world:anyone=rwcda\n  should be: digest:cairn-syncer:`,
    );
    const json = await runCliCaptured(['acl', 'check', '--format', 'json'], env('cairn-operator'));
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      root: ROOT,
      controlled: true,
      drift: [{ path: pointer, actual: 'world:anyone=rwcda' }],
    });
    // A hand edit of the content too: the syncer repairs both, as the syncer's role.
    await syncer.set(layout.service('search-api'), Buffer.from('{"edited":"by hand"}'));
    const sync = await runCliCaptured(f.syncOnceArgs().concat('--root', ROOT), {
      ...env('cairn-syncer'),
      CAIRN_LOG_LEVEL: 'debug',
      CAIRN_LOG_FORMAT: 'json',
    });
    expect(sync.code).toBe(0);
    expect(sync.stderr).toContain('ACL_REPAIRED');
    expect(sync.stderr).not.toContain(await password('cairn-syncer'));
    expect((await syncer.get(layout.service('search-api'))).data.toString()).not.toContain('by hand');
    const after = await runCliCaptured(['acl', 'check', '--format', 'json'], env('cairn-operator'));
    expect(JSON.parse(after.stdout)).toMatchObject({ controlled: true, drift: [] });
    expect(after.code).toBe(0);
  });

  it('never shows a password, not even a wrong one, in what it prints', async () => {
    const wrong = 'cairn-operator:not-the-password-42';
    const status = await runCliCaptured(['status'], { ...env(), CAIRN_ZK_AUTH: wrong });
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/credentials given cannot read \/secure\/principals/);
    expect(status.stderr + status.stdout).not.toContain('not-the-password-42');
    const both = await runCliCaptured(['status'], { ...env('cairn-operator'), CAIRN_ZK_AUTH: wrong });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/keep one/);
    expect(both.stderr).not.toContain('not-the-password-42');
  });

  it('refuses to set up a root under access control again', async () => {
    const again = await runCliCaptured(['acl', 'init'], env());
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/under access control already: add hosts with cairn acl add-host/);
  });
});
