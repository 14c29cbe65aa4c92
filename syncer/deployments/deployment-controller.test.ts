import { getEventListeners } from 'node:events';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeDeploymentRecord,
  encodeDeploymentControlRecord,
  FencedWriter,
  LeadershipLostError,
  type LeaderTerm,
} from '../../core/index.js';
import { runCliCaptured } from '../../test/support/run-cli.js';
import { quietLogger, type SyncerFixture, startSyncerFixture } from '../../test/support/syncer-fixture.js';
import type { Mirror } from '../mirror.js';
import { DeploymentController } from './deployment-controller.js';

/** Fewer than the default 20, so that a loaded machine publishes enough releases in time. */
const KEPT = 4;

const SERVICE = [
  'apiVersion: cairn/v1',
  'description: A service the controller tests release.',
  'owners: [team:platform]',
  'environments:',
  '  dev:',
  '    hosts:',
  '      - host: ctl-01',
  '      - host: ctl-02',
  '',
].join('\n');
const POLICY = [
  'apiVersion: cairn/v1',
  'rules:',
  '  - name: service-owners',
  '    paths: ["services/**"]',
  '    require:',
  '      - approvals: 1',
  '        from: [owners]',
  'deployments:',
  '  - name: ctl-steering',
  '    paths: ["services/zz-ctl/releases/*.yaml"]',
  '    actions: [abort]',
  '    from: [user:ines-ortega]',
  '',
].join('\n');
const release = (version: string) =>
  `apiVersion: cairn/v1\nversion: ${version}\ndeploy:\n  command: "true"\nstrategy:\n  batchSize: 1\n`;

// The service sorts last: a damaged record of any other environment is met before it.
describe('the deployment controller', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  let requests = 0;
  let ctl: DeploymentController;
  const term = (writer = f.target.writer): LeaderTerm => ({
    number: 1,
    session: f.session,
    writer,
    signal: new AbortController().signal,
  });
  const ids = async () => (await f.session.childrenIfExists(f.layout.deployments('zz-ctl', 'dev'))).sort();
  const deployment = async (id: string) =>
    decodeDeploymentRecord((await f.session.get(f.layout.deployment('zz-ctl', 'dev', id))).data);
  const publish = async (version: string, extra: Record<string, string> = {}) => {
    await f.work.write({ 'services/zz-ctl/releases/dev.yaml': release(version), ...extra });
    await f.work.commit(`Release ${version}`);
    await f.work.push(f.repoUrl);
    await mirror.sync(f.target);
  };
  /** Passes until one asks for no other (a creation asks for the pass that advances it). */
  const settle = async () => {
    for (let i = 0; i < 10; i++) {
      const before = requests;
      await ctl.reconcile(term());
      if (requests === before) return;
    }
  };

  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = f.newMirror();
    ctl = new DeploymentController({
      layout: f.layout,
      logger: quietLogger,
      kept: KEPT,
      request: () => {
        requests++;
      },
    });
  });
  afterAll(async () => {
    ctl?.close();
    await f?.close();
  });

  it('records the first release of an environment as deployed, and deploys the next', async () => {
    await publish('v1', { 'services/zz-ctl/service.yaml': SERVICE });
    await settle();
    const [first] = await ids();
    expect(await deployment(first as string)).toMatchObject({ state: 'succeeded', settled: true });
    expect(
      await f.session.childrenIfExists(f.layout.deploymentTasks('zz-ctl', 'dev', first as string)),
    ).toEqual([]);
    await publish('v2');
    await settle();
    const second = (await ids()).at(-1) as string;
    expect(await deployment(second)).toMatchObject({ state: 'progressing', previousVersion: 'v1' });
    expect(await f.session.childrenIfExists(f.layout.deploymentTasks('zz-ctl', 'dev', second))).toEqual([
      'ctl-01',
    ]);
  });

  it('listens for the end of its term once, however many passes the term runs', async () => {
    const ending = new AbortController();
    const long: LeaderTerm = { ...term(), signal: ending.signal };
    for (let pass = 0; pass < 12; pass++) await ctl.reconcile(long);
    // A running deployment has a deadline, so every pass sets a timer the term's end must clear.
    expect(getEventListeners(ending.signal, 'abort')).toHaveLength(1);
    ending.abort();
  });

  it('cannot write once deposed: the fence fails and nothing is written', async () => {
    await publish('v3');
    const fence = await f.session.create('/deposed-fence', new Uint8Array(0), 'ephemeral');
    const deposed = new FencedWriter(f.session, () => ({ op: 'check', path: fence, version: 0 }));
    await f.session.remove(fence);
    const before = await ids();
    await expect(ctl.reconcile(term(deposed))).rejects.toBeInstanceOf(LeadershipLostError);
    expect(await ids()).toEqual(before);
  });

  it('supersedes the running deployment and keeps the newest few (20 by default) of an environment', async () => {
    await settle();
    for (let n = 4; n <= KEPT + 4; n++) {
      await publish(`v${n}`);
      await settle();
    }
    await settle();
    const kept = await ids();
    expect(kept).toHaveLength(KEPT);
    const newest = await deployment(kept.at(-1) as string);
    expect(newest.release.version).toBe(`v${KEPT + 4}`);
    const previous = await deployment(kept.at(-2) as string);
    expect(previous).toMatchObject({ state: 'superseded', settled: true });
    expect(previous.reason).toBe(`superseded by ${newest.id}`);
  });

  it('lets only whom policy.yaml allows abort: the command line refuses, a hand-written action is rejected', async () => {
    await publish('v60', { 'policy.yaml': POLICY });
    await settle();
    const id = (await ids()).at(-1) as string;
    expect(await deployment(id)).toMatchObject({ state: 'progressing' });
    const cli = (by: string) =>
      runCliCaptured(
        ['deploy', 'abort', 'zz-ctl', 'dev', '--zk', f.zk.connectString, '--reason', 'bad build'],
        {
          CAIRN_USER: by,
        },
      );

    const refused = await cli('mallory');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'policy.yaml\'s deployments rule "ctl-steering" allows user:ines-ortega',
    );
    expect(await f.session.childrenIfExists(f.layout.deploymentControls('zz-ctl', 'dev', id))).toEqual([]);

    // Writing the node by hand does not bypass the policy: the controller rejects it, says so, keeps it.
    await f.session.create(
      f.layout.deploymentControlPrefix('zz-ctl', 'dev', id),
      Buffer.from(
        JSON.stringify({ action: 'abort', by: 'mallory', at: new Date().toISOString(), reason: 'by hand' }),
      ),
      'persistent-sequential',
    );
    const warnings: { code?: string; rule?: string; by?: string }[] = [];
    const watching = new DeploymentController({
      layout: f.layout,
      logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) }),
      kept: KEPT,
      request: () => {},
    });
    await watching.reconcile(term());
    watching.close();
    const rejected = await deployment(id);
    expect(rejected.state).toBe('progressing');
    expect(rejected.rejected).toMatchObject([{ action: 'abort', by: 'mallory', reason: 'by hand' }]);
    expect(rejected.rejected?.[0]?.rejection).toContain('allows user:ines-ortega');
    expect(warnings).toMatchObject([{ code: 'CONTROL_NOT_ALLOWED', rule: 'ctl-steering', by: 'mallory' }]);
    const status = await runCliCaptured(['deploy', 'status', 'zz-ctl', 'dev', '--zk', f.zk.connectString]);
    expect(status.stdout).toContain('rejected abort by mallory at ');
    expect(status.stdout).toContain('(by hand): mallory may not abort');

    const allowed = await cli('ines-ortega');
    expect(allowed.code).toBe(0);
    await settle();
    expect(await deployment(id)).toMatchObject({ state: 'aborted' });
    expect((await deployment(id)).transitions.at(-1)).toMatchObject({
      actor: 'ines-ortega',
      reason: 'aborted: bad build',
    });
  });

  it("applies an action recorded from a comment on the release's pull request, naming its author", async () => {
    await publish('v61');
    await settle();
    const id = (await ids()).at(-1) as string;
    expect(await deployment(id)).toMatchObject({ state: 'progressing' });
    await f.session.create(
      f.layout.deploymentControlPrefix('zz-ctl', 'dev', id),
      encodeDeploymentControlRecord({
        action: 'pause',
        by: 'ines-ortega',
        at: new Date().toISOString(),
        reason: 'canary errors',
        source: {
          kind: 'github-comment',
          commentId: 42,
          url: 'https://github.com/o/r/pull/7#issuecomment-42',
        },
      }),
      'persistent-sequential',
    );
    await settle();
    const paused = await deployment(id);
    expect(paused).toMatchObject({ state: 'paused', pauseReason: 'manual' });
    expect(paused.transitions.at(-1)).toMatchObject({ actor: 'ines-ortega', state: 'paused' });
  });

  it('keeps advancing other environments when one holds a damaged deployment record', async () => {
    const damagedIds = await f.session.childrenIfExists(f.layout.deployments('search-api', 'dev'));
    const damaged = f.layout.deployment('search-api', 'dev', damagedIds.sort().at(-1) as string);
    await f.session.set(damaged, Buffer.from('{"not": "a deployment"}'));
    const before = (await ids()).at(-1);
    await publish('v99');
    await settle();
    const newest = (await ids()).at(-1) as string;
    expect(newest).not.toBe(before);
    expect((await deployment(newest)).release.version).toBe('v99');
  });
});
