import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EphemeralNode, type SessionKeeper, ZkSession } from '../../core/index.js';
import {
  type ConnectOptions,
  connect,
  DEFAULT_WEIGHT,
  discover,
  type SdkWarning,
  ServiceConfig,
  ServiceDiscovery,
  type ServiceInstance,
} from '../../sdk/index.js';
import { waitFor } from '../harness/index.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { type BoundMirror, boundMirror, commitAndSync, recordEvents } from './sdk-test-support.js';

describe('service discovery from the instance registry and the service tree', () => {
  let f: SyncerFixture;
  let mirror: BoundMirror;
  const closers: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
    // prod follows release tags (cairn.yaml): tag the imported commit so prod has a configuration.
    await f.work.git('tag', 'v1.0.0');
    await f.work.push(f.repoUrl, 'refs/tags/v1.0.0');
    mirror = boundMirror(f);
    await mirror.sync();
  });
  afterAll(async () => {
    for (const closer of closers.reverse()) await closer.close();
    await f?.close();
  });

  const instance = async (host: string, port: number, extra: Partial<ConnectOptions> = {}) => {
    const config = await connect({
      zk: f.zk.connectString,
      service: 'recommender',
      env: 'prod',
      instance: { host, port },
      ...extra,
    });
    closers.push(config);
    return config;
  };
  const find = async (env = 'prod') => {
    const discovery = await discover({ zk: f.zk.connectString, service: 'recommender', env });
    closers.push(discovery);
    return discovery;
  };
  const keys = (instances: readonly ServiceInstance[]) => instances.map((i) => i.key);

  let big: ServiceConfig;
  let small: ServiceConfig;
  let laptop: ServiceConfig;
  let discovery: ServiceDiscovery;

  it('lists live instances with the weights the service tree gives their hosts', async () => {
    big = await instance('rec-prod-05.dc2.northwind.internal', 8080);
    small = await instance('rec-prod-01.dc1.northwind.internal', 8080);
    laptop = await instance('laptop.local', 9000);
    discovery = await find();
    expect(discovery.loadBalancing).toBe('consistent-hash');
    expect(
      discovery
        .instances()
        .map((i) => ({ key: i.key, weight: i.weight, listed: i.listed, commit: i.commit })),
    ).toEqual([
      { key: 'laptop.local:9000', weight: DEFAULT_WEIGHT, listed: false, commit: laptop.commit },
      { key: 'rec-prod-01.dc1.northwind.internal:8080', weight: 100, listed: true, commit: small.commit },
      { key: 'rec-prod-05.dc2.northwind.internal:8080', weight: 150, listed: true, commit: big.commit },
    ]);
    expect(discovery.instances()[2]?.labels).toEqual({ zone: 'dc2-c', hw: 'gen11' });
    expect(discovery.instances()[2]?.record).toMatchObject({
      pid: process.pid,
      port: 8080,
      source: 'zookeeper',
    });
  });

  it('picks by smooth weighted round-robin in proportion to the weights', () => {
    const picker = discovery.picker('weighted-round-robin');
    const counts = new Map<string, number>();
    for (let i = 0; i < 350 * 4; i++) {
      const key = picker.pick()?.key as string;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({
      'rec-prod-05.dc2.northwind.internal:8080': 600,
      'rec-prod-01.dc1.northwind.internal:8080': 400,
      'laptop.local:9000': 400,
    });
  });

  it('follows membership: an instance that closes leaves, and consistent hashing moves only its keys', async () => {
    const picker = discovery.picker();
    expect(picker.strategy).toBe('consistent-hash');
    expect(() => picker.pick()).toThrow(TypeError);
    const users = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    const before = new Map(users.map((user) => [user, picker.pick(user)?.key]));
    expect(new Set(before.values()).size).toBe(3);
    const changes: (readonly ServiceInstance[])[] = [];
    discovery.on('change', (instances) => changes.push(instances));

    await laptop.close();
    await waitFor(() => discovery.instances().length === 2, { description: 'the closed instance to leave' });
    expect(keys(changes.at(-1) ?? [])).toEqual([
      'rec-prod-01.dc1.northwind.internal:8080',
      'rec-prod-05.dc2.northwind.internal:8080',
    ]);
    for (const user of users) {
      const owner = before.get(user);
      if (owner !== 'laptop.local:9000') expect(picker.pick(user)?.key, user).toBe(owner);
      else expect(picker.pick(user)?.key).not.toBe('laptop.local:9000');
    }
  });

  it('follows the service tree: a weight changed by a commit applies without a restart', async () => {
    const service = await f.work.git('show', 'HEAD:services/recommender/service.yaml');
    await commitAndSync(f, mirror, 'Give rec-prod-01.dc1 more traffic', {
      'services/recommender/service.yaml': `${service.replace(
        '- { host: rec-prod-01.dc1.northwind.internal, labels: { zone: dc1-a } }',
        '- { host: rec-prod-01.dc1.northwind.internal, weight: 400, labels: { zone: dc1-a } }',
      )}\n`,
    });
    await waitFor(
      () =>
        discovery.instances().find((i) => i.host === 'rec-prod-01.dc1.northwind.internal')?.weight === 400,
      { description: 'the new weight' },
    );
  });

  it('sees instances appear in an environment that had none, and starts empty there', async () => {
    const staging = await find('staging');
    expect(staging.instances()).toEqual([]);
    expect(staging.picker().pick()).toBeUndefined();
    await instance('rec-stg-01.dc1.northwind.internal', 8080, { env: 'staging' });
    await waitFor(() => staging.instances().length === 1, { description: 'the first staging instance' });
    expect(staging.picker('weighted-round-robin').pick()?.host).toBe('rec-stg-01.dc1.northwind.internal');
  });

  it('skips, with a warning, an instance node that does not hold an instance record', async () => {
    await f.session.mkdirp(f.layout.instances('recommender', 'dev'));
    await f.session.create(
      f.layout.instance('recommender', 'dev', 'garbage'),
      Buffer.from('not json'),
      'ephemeral',
    );
    const dev = new ServiceDiscovery({ zk: f.zk.connectString, service: 'recommender', env: 'dev' });
    closers.push(dev);
    const warnings: SdkWarning[] = [];
    dev.on('warning', (warning) => warnings.push(warning));
    await dev.start();
    expect(dev.instances()).toEqual([]);
    expect(warnings.map((w) => w.code)).toEqual(['INSTANCE_UNREADABLE']);
  });

  it('rejects within its deadline when ZooKeeper cannot be reached', async () => {
    const started = Date.now();
    await expect(
      discover({ zk: '127.0.0.1:1', service: 'recommender', env: 'prod', connectTimeoutMs: 300 }),
    ).rejects.toMatchObject({ code: 'ZOOKEEPER_UNREACHABLE', connectString: '127.0.0.1:1' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('warns when another live session holds its instance id, and registers once that session ends', async () => {
    const other = await ZkSession.connect({ connectString: f.zk.connectString });
    const path = f.layout.instance('recommender', 'prod', 'shared-id');
    await other.mkdirp(f.layout.instances('recommender', 'prod'));
    await other.create(path, Buffer.from('{}'), 'ephemeral');
    const config = new ServiceConfig({
      zk: f.zk.connectString,
      service: 'recommender',
      env: 'prod',
      instance: { host: 'rec-prod-02.dc1.northwind.internal', id: 'shared-id' },
    });
    closers.push(config);
    const events = recordEvents(config);
    await config.start();
    expect(events.warnings.map((w) => w.code)).toEqual(['REGISTRATION_CONFLICT']);
    expect(events.warnings[0]?.message).toContain('instance.id');
    await other.close();
    await waitFor(
      async () =>
        JSON.parse((await f.session.get(path)).data.toString()).host === 'rec-prod-02.dc1.northwind.internal',
      { description: 'the registration once the other session is gone', timeoutMs: 15_000 },
    );
  });

  it('warns when it cannot register, and registers once it can', async () => {
    // Another session made the environment's instance folder ephemeral: nothing can be created in it.
    const other = await ZkSession.connect({ connectString: f.zk.connectString });
    const folder = f.layout.instances('search-api', 'dev');
    await other.mkdirp(folder.slice(0, folder.lastIndexOf('/')));
    await other.create(folder, Buffer.alloc(0), 'ephemeral');
    const config = new ServiceConfig({
      zk: f.zk.connectString,
      service: 'search-api',
      env: 'dev',
      instance: { host: 'search-dev-01.dc1.northwind.internal' },
    });
    closers.push(config);
    const events = recordEvents(config);
    await config.start();
    expect(events.warnings.map((w) => w.code)).toEqual(['REGISTRATION_FAILED']);
    await other.close();
    await waitFor(async () => (await f.session.exists(config.instancePath as string)) !== undefined, {
      description: 'the registration once the folder is usable',
      timeoutMs: 15_000,
    });
  });

  it('replaces the node of a session it gave up, which the server has not expired yet', async () => {
    const former = await ZkSession.connect({ connectString: f.zk.connectString, sessionTimeoutMs: 10_000 });
    const path = f.layout.instance('recommender', 'prod', 'given-up');
    await former.create(path, Buffer.from('{"old":true}'), 'ephemeral');
    // A keeper that gave `former` up (as after a disconnection longer than its timeout) and holds a new
    // session now: real sessions, the keeper's bookkeeping written out.
    const current = await ZkSession.connect({ connectString: f.zk.connectString, sessionTimeoutMs: 10_000 });
    const keeper = Object.assign(new EventEmitter(), {
      session: current,
      connected: true,
      previousSessionIds: [former.sessionId],
    }) as unknown as SessionKeeper;
    const errors: unknown[] = [];
    const registration = new EphemeralNode({ keeper, path, onError: (error) => errors.push(error) });
    registration.start(Buffer.from('{"id":"given-up"}'));
    try {
      await waitFor(async () => JSON.parse((await f.session.get(path)).data.toString()).id === 'given-up', {
        description: 'the node replaced',
      });
      expect(errors).toEqual([]);
      const stat = await f.session.exists(path);
      expect(stat?.ephemeralOwner.toString(16)).toBe(BigInt(`0x${current.sessionId}`).toString(16));
    } finally {
      await registration.close();
      await current.close();
      await former.close();
    }
  });
});
