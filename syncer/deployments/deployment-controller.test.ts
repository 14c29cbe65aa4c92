import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeDeploymentRecord,
  FencedWriter,
  LeadershipLostError,
  type LeaderTerm,
} from '../../core/index.js';
import { quietLogger, type SyncerFixture, startSyncerFixture } from '../../test/support/syncer-fixture.js';
import type { Mirror } from '../mirror.js';
import { DEPLOYMENTS_KEPT, DeploymentController } from './deployment-controller.js';

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

  it('cannot write once deposed: the fence fails and nothing is written', async () => {
    await publish('v3');
    const fence = await f.session.create('/deposed-fence', new Uint8Array(0), 'ephemeral');
    const deposed = new FencedWriter(f.session, () => ({ op: 'check', path: fence, version: 0 }));
    await f.session.remove(fence);
    const before = await ids();
    await expect(ctl.reconcile(term(deposed))).rejects.toBeInstanceOf(LeadershipLostError);
    expect(await ids()).toEqual(before);
  });

  it('supersedes the running deployment and keeps the newest 20 of an environment', async () => {
    await settle();
    for (let n = 4; n <= DEPLOYMENTS_KEPT + 4; n++) {
      await publish(`v${n}`);
      await settle();
    }
    await settle();
    const kept = await ids();
    expect(kept).toHaveLength(DEPLOYMENTS_KEPT);
    const newest = await deployment(kept.at(-1) as string);
    expect(newest.release.version).toBe(`v${DEPLOYMENTS_KEPT + 4}`);
    const previous = await deployment(kept.at(-2) as string);
    expect(previous).toMatchObject({ state: 'superseded', settled: true });
    expect(previous.reason).toBe(`superseded by ${newest.id}`);
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
