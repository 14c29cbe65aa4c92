import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { contentId, decodeHeadRecord, decodeHistoryRecord } from '../../core/index.js';
import { resolveSyncerConfig, type SyncerConfig, SyncerDaemon } from '../../syncer/index.js';
import { COLLECTION_QUIET_MS } from '../../syncer/syncer-daemon.js';
import { waitFor } from '../harness/index.js';
import { spawnCairn } from '../support/cairn-process.js';
import { quietLogger, type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { postPushWebhook } from '../support/webhook.js';

const SECRET = 'a-webhook-secret';

describe('the syncer daemon', () => {
  let f: SyncerFixture;
  const daemons: SyncerDaemon[] = [];
  beforeAll(async () => {
    f = await startSyncerFixture();
  });
  afterEach(async () => {
    await Promise.all(daemons.splice(0).map((d) => d.close()));
  });
  afterAll(async () => {
    await f?.close();
  });

  const configFor = async (
    replicaId: string,
    overrides: Partial<SyncerConfig> = {},
  ): Promise<SyncerConfig> => ({
    ...resolveSyncerConfig(
      {
        repo: f.repoUrl,
        zk: f.zk.connectString,
        listen: '127.0.0.1:0',
        webhookSecret: SECRET,
        poll: '1h',
        sessionTimeout: '2s',
        replicaId,
        cacheDir: await mkdtemp(join(tmpdir(), 'cairn-daemon-cache-')),
      },
      {},
      { hostname: 'test', pid: 0 },
    ),
    ...overrides,
  });
  const startDaemon = async (replicaId: string, overrides: Partial<SyncerConfig> = {}) => {
    const daemon = new SyncerDaemon(await configFor(replicaId, overrides), quietLogger);
    daemons.push(daemon);
    const { port } = await daemon.start();
    return { daemon, base: `http://127.0.0.1:${port}` };
  };
  const syncCount = async (base: string) =>
    Number(
      /cairn_syncer_sync_duration_seconds_count (\d+)/.exec(
        await (await fetch(`${base}/metrics`)).text(),
      )?.[1] ?? 0,
    );
  const headCommit = async () => decodeHeadRecord((await f.session.get(f.layout.head())).data).commit;
  const commitAndPush = async (files: Record<string, string | null>, message: string) => {
    await f.work.write(files);
    const sha = await f.work.commit(message);
    await f.work.push(f.repoUrl);
    return sha;
  };

  it('mirrors on start, then on each signed push webhook, and is healthy when caught up', async () => {
    const { daemon, base } = await startDaemon('replica-a');
    await waitFor(
      async () =>
        daemon.status().role === 'leader' && (await headCommit().catch(() => '')) === (await f.work.head()),
      { description: 'the first mirror', timeoutMs: 15_000 },
    );
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ready: true, role: 'leader', mirrored: await f.work.head() });

    const sha = await commitAndPush(
      { 'services/recommender/config/webhook.yaml': 'hook: 1\n' },
      'Change by webhook',
    );
    expect(await postPushWebhook(`${base}/webhook`, SECRET, { after: sha })).toMatchObject({
      status: 202,
      body: { queued: true },
    });
    await waitFor(async () => (await headCommit()) === sha, {
      description: 'the pushed commit mirrored',
      timeoutMs: 10_000,
    });
    expect(await f.actualView()).toEqual(await f.expectedView());

    await daemon.whenIdle();
    // Polls that find nothing new count as no sync.
    await daemon.syncNow();
    await daemon.syncNow();
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`cairn_syncer_environment_info{env="dev",commit="${sha}",tag=""} 1`);
    expect(metrics.match(/^cairn_syncer_environment_info\{env="dev"/gm)).toHaveLength(1);
    expect(metrics).toContain('cairn_syncer_leader 1');
    expect(metrics).toContain('cairn_syncer_commits_mirrored_total 2');
    expect(metrics).toContain('cairn_syncer_sync_duration_seconds_count 2');
    expect(metrics).toMatch(/^process_cpu_seconds_total \S+$/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds \S+$/m);
    // A commit is never a label, except in the one info series per environment.
    const commitLabels = metrics.split('\n').filter((line) => /[{,]commit="/.test(line));
    expect(commitLabels.every((line) => line.startsWith('cairn_syncer_environment_info{'))).toBe(true);

    // A refused commit is counted once, however often it is looked at again.
    const broken = await commitAndPush(
      { 'services/recommender/config/application.yaml': 'server: [unclosed\n' },
      'Break the recommender',
    );
    await daemon.syncNow();
    await daemon.syncNow();
    expect(daemon.status().refused?.commit).toBe(broken);
    const refusing = await (await fetch(`${base}/metrics`)).text();
    expect(refusing).toContain('cairn_syncer_commits_refused_total 1');
    expect(refusing).toContain('cairn_syncer_refusing 1');
    expect(refusing).toContain(`cairn_syncer_environment_info{env="dev",commit="${sha}",tag=""} 1`);
    await f.work.git('revert', '--no-edit', broken);
    await f.work.push(f.repoUrl);
    await daemon.syncNow();
    const fixed = await (await fetch(`${base}/metrics`)).text();
    expect(fixed).toContain('cairn_syncer_refusing 0');
    expect(fixed).toContain('cairn_syncer_commits_mirrored_total 3');
  });

  it('refuses unsigned and forged webhooks with 401 and does not fetch', async () => {
    const { daemon, base } = await startDaemon('replica-a');
    await waitFor(() => daemon.status().ready && daemon.status().role === 'leader', {
      description: 'leading and ready',
      timeoutMs: 15_000,
    });
    const sha = await commitAndPush({ 'services/recommender/config/forged.yaml': 'x: 1\n' }, 'Not announced');
    const mirroredBefore = await headCommit();
    const requestsBefore = f.git.requests();
    expect((await postPushWebhook(`${base}/webhook`, SECRET, { after: sha }, { forge: true })).status).toBe(
      401,
    );
    const unsigned = await postPushWebhook(`${base}/webhook`, SECRET, { after: sha }, { unsigned: true });
    expect(unsigned).toMatchObject({
      status: 401,
      body: { error: expect.stringContaining('missing X-Hub-Signature-256') },
    });
    // An accepted webhook starts a sync before its answer is sent; these started none.
    await daemon.whenIdle();
    expect(f.git.requests()).toBe(requestsBefore);
    expect(await headCommit()).toBe(mirroredBefore);
    expect((await fetch(`${base}/webhook`, { method: 'GET' })).status).toBe(405);
    expect(
      (await postPushWebhook(`${base}/webhook`, SECRET, { after: sha }, { event: 'issues' })).body,
    ).toEqual({ ignored: true });
    // Pushes to other branches do not concern it; pushed tags do (environments may follow them).
    expect(
      (await postPushWebhook(`${base}/webhook`, SECRET, { ref: 'refs/heads/feature', after: sha })).body,
    ).toEqual({ ignored: true });
    expect(
      (await postPushWebhook(`${base}/webhook`, SECRET, { ref: 'refs/tags/v3.0.0', after: sha })).body,
    ).toMatchObject({ queued: true });
  });

  it('mirrors what the branch names, never the commit a signed push names (another branch’s)', async () => {
    const { daemon, base } = await startDaemon('replica-a');
    await waitFor(
      async () =>
        daemon.status().role === 'leader' && (await headCommit().catch(() => '')) === (await f.work.head()),
      { description: 'the first mirror', timeoutMs: 15_000 },
    );
    const mirrored = await headCommit();
    await f.work.git('checkout', '--quiet', '-b', 'unreviewed');
    await f.work.write({ 'services/recommender/config/unreviewed.yaml': 'merged: false\n' });
    const unreviewed = await f.work.commit('Not merged');
    await f.work.push(f.repoUrl, 'HEAD:refs/heads/unreviewed');
    await f.work.git('checkout', '--quiet', 'main');
    // Signed, so accepted; its `after` is fetched alongside the listing, which names main's head.
    expect(await postPushWebhook(`${base}/webhook`, SECRET, { after: unreviewed })).toMatchObject({
      status: 202,
      body: { queued: true },
    });
    await daemon.whenIdle();
    expect(await headCommit()).toBe(mirrored);
    expect(daemon.status()).toMatchObject({ ready: true, mirrored, branchHead: mirrored });

    const merged = await commitAndPush({ 'services/recommender/config/webhook.yaml': 'hook: 2\n' }, 'Merged');
    await postPushWebhook(`${base}/webhook`, SECRET, { after: merged });
    await waitFor(async () => (await headCommit()) === merged, {
      description: 'the merged commit mirrored',
      timeoutMs: 10_000,
    });
    expect(await f.actualView()).toEqual(await f.expectedView());
  });

  it('coalesces a burst of pushes into few fetches and never misses the last one', async () => {
    const { daemon, base } = await startDaemon('replica-a');
    await waitFor(() => daemon.status().ready && daemon.status().role === 'leader', {
      description: 'leading and ready',
      timeoutMs: 15_000,
    });
    let last = '';
    for (let i = 0; i < 10; i++)
      last = await commitAndPush({ 'services/recommender/config/burst.yaml': `n: ${i}\n` }, `Burst ${i}`);
    const syncsBefore = await syncCount(base);
    // Ten deliveries at once, as GitHub sends them after a burst of merges.
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => postPushWebhook(`${base}/webhook`, SECRET, { after: last })),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    await waitFor(async () => (await headCommit()) === last, {
      description: 'the last push mirrored',
      timeoutMs: 15_000,
    });
    await daemon.whenIdle();
    // One sync running and one pending absorb all ten.
    expect((await syncCount(base)) - syncsBefore).toBeLessThanOrEqual(2);
    // The same delivery redelivered triggers nothing.
    expect(
      (await postPushWebhook(`${base}/webhook`, SECRET, { after: last }, { deliveryId: 'same' })).body,
    ).toMatchObject({ queued: true });
    expect(
      (await postPushWebhook(`${base}/webhook`, SECRET, { after: last }, { deliveryId: 'same' })).body,
    ).toEqual({ duplicate: true });
  });

  it('reports an unreachable git server in /healthz, retries with backoff, and recovers', async () => {
    const { daemon, base } = await startDaemon('replica-a');
    await waitFor(() => daemon.status().ready && daemon.status().role === 'leader', {
      description: 'leading and ready',
      timeoutMs: 15_000,
    });
    f.git.setAvailable(false);
    try {
      const sha = await f.work.commit('Unreachable meanwhile', { allowEmpty: true });
      await postPushWebhook(`${base}/webhook`, SECRET, { after: sha });
      await waitFor(async () => daemon.status().lastError?.code === 'GIT_UNREACHABLE', {
        description: 'the failed fetch recorded',
        timeoutMs: 10_000,
      });
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ ready: false, lastError: { code: 'GIT_UNREACHABLE' } });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toContain('cairn_syncer_errors_total{code="GIT_UNREACHABLE"}');
      // Behind since the first failed attempt.
      expect(Number(/^cairn_syncer_lag_seconds (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    } finally {
      f.git.setAvailable(true);
    }
    // The retry, with backoff, finds the server again without any new event.
    await waitFor(() => daemon.status().ready, { description: 'ready again', timeoutMs: 20_000 });
    expect(daemon.status().lastError).toBeUndefined();
    await f.work.push(f.repoUrl);
    await postPushWebhook(`${base}/webhook`, SECRET, { after: await f.work.head() });
    await waitFor(async () => (await headCommit()) === (await f.work.head()), {
      description: 'caught up after the git server returned',
      timeoutMs: 20_000,
    });
  });

  it('keeps one writer among replicas; a standby takes over when the leader stops', async () => {
    const a = await startDaemon('replica-a');
    await waitFor(() => a.daemon.status().role === 'leader', { description: 'a leads', timeoutMs: 15_000 });
    const b = await startDaemon('replica-b');
    await waitFor(() => b.daemon.status().role === 'standby', {
      description: 'b stands by',
      timeoutMs: 15_000,
    });
    expect((await fetch(`${b.base}/healthz`)).status).toBe(200);
    await a.daemon.close();
    await waitFor(() => b.daemon.status().role === 'leader', {
      description: 'b takes over',
      timeoutMs: 5000,
    });
    const sha = await commitAndPush(
      { 'services/recommender/config/after-failover.yaml': 'ok: true\n' },
      'After failover',
    );
    await postPushWebhook(`${b.base}/webhook`, SECRET, { after: sha });
    await waitFor(async () => (await headCommit()) === sha, { description: 'b mirrors', timeoutMs: 10_000 });
  });

  it('keeps a standby warm: it follows the branch, so the pass that takes over parses nothing it followed', async () => {
    const filesParsed = async (base: string, role: 'leader' | 'standby') =>
      Number(
        new RegExp(`cairn_syncer_files_parsed_total\\{role="${role}"\\} (\\d+)`).exec(
          await (await fetch(`${base}/metrics`)).text(),
        )?.[1] ?? 0,
      );
    const a = await startDaemon('replica-a');
    await waitFor(() => a.daemon.status().role === 'leader', { description: 'a leads', timeoutMs: 15_000 });
    const b = await startDaemon('replica-b');
    await waitFor(() => b.daemon.status().role === 'standby', {
      description: 'b stands by',
      timeoutMs: 15_000,
    });
    // Five files, mirrored by a and followed by b.
    const five = Object.fromEntries(
      [1, 2, 3, 4, 5].map((n) => [`services/recommender/config/warm-${n}.yaml`, `n: ${n}\n`]),
    );
    const first = await commitAndPush(five, 'Five files');
    await postPushWebhook(`${a.base}/webhook`, SECRET, { after: first });
    await postPushWebhook(`${b.base}/webhook`, SECRET, { after: first });
    await waitFor(async () => (await headCommit()) === first && b.daemon.status().branchHead === first, {
      description: 'a mirrors and b follows the five files',
      timeoutMs: 15_000,
    });
    // One more file that only b hears of, as when a push arrives while the leader is dead.
    const last = await commitAndPush({ 'services/recommender/config/warm-1.yaml': 'n: 10\n' }, 'One file');
    await postPushWebhook(`${b.base}/webhook`, SECRET, { after: last });
    await waitFor(() => b.daemon.status().branchHead === last, {
      description: 'b follows the last commit',
      timeoutMs: 15_000,
    });
    expect(await headCommit()).toBe(first); // a standby never writes
    expect(await filesParsed(b.base, 'standby')).toBe(6);

    await a.daemon.close();
    await waitFor(async () => (await headCommit()) === last, {
      description: 'b takes over and mirrors the last commit',
      timeoutMs: 15_000,
    });
    // Its first pass as leader parsed nothing: b had read and validated the commit while standing by.
    expect(await filesParsed(b.base, 'leader')).toBe(0);
    // What the commit changed is still known exactly, though b read it before it led.
    const head = decodeHeadRecord((await f.session.get(f.layout.head())).data);
    const history = decodeHistoryRecord((await f.session.get(f.layout.historyRecord(head.seq))).data);
    expect(history.changed).toEqual(['services/recommender/config/warm-1.yaml']);
  });

  it('warns once when a standby cannot follow the branch, and says when it follows again', async () => {
    const lines: { level: number; msg: string; code?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const a = await startDaemon('replica-a');
    await waitFor(() => a.daemon.status().role === 'leader', { description: 'a leads', timeoutMs: 15_000 });
    const standby = new SyncerDaemon(await configFor('replica-b'), pino({ level: 'debug' }, sink));
    daemons.push(standby);
    const { port } = await standby.start();
    await waitFor(() => standby.status().role === 'standby' && standby.status().branchHead !== undefined, {
      description: 'b stands by and follows',
      timeoutMs: 15_000,
    });
    const following = (line: { msg: string }) => line.msg.startsWith('a standby could not follow the branch');
    f.git.setAvailable(false);
    try {
      const sha = await f.work.commit('Unreachable for the standby', { allowEmpty: true });
      // Three pushes, three failed follows: one warning, the others at debug level.
      for (let n = 1; n <= 3; n++) {
        await postPushWebhook(`http://127.0.0.1:${port}/webhook`, SECRET, { after: sha });
        await waitFor(() => lines.filter(following).length >= n, {
          description: `failed follow ${n} logged`,
          timeoutMs: 15_000,
        });
      }
    } finally {
      f.git.setAvailable(true);
    }
    const failures = lines.filter(following);
    expect(failures.map((line) => line.level)).toEqual([40, 20, 20]);
    expect(failures[0]).toMatchObject({ code: 'GIT_UNREACHABLE' });
    expect(failures[0]?.msg).toContain('take over cold');
    await f.work.push(f.repoUrl);
    await postPushWebhook(`http://127.0.0.1:${port}/webhook`, SECRET, { after: await f.work.head() });
    await waitFor(async () => standby.status().branchHead === (await f.work.head()), {
      description: 'b follows again',
      timeoutMs: 15_000,
    });
    expect(lines.filter((line) => line.msg.startsWith('the standby follows the branch again'))).toHaveLength(
      1,
    );
  });

  it('rejoins the election when its node is deleted by hand, and never writes while it does not lead', async () => {
    const a = await startDaemon('replica-a');
    await waitFor(() => a.daemon.status().role === 'leader', { description: 'a leads', timeoutMs: 15_000 });
    const b = await startDaemon('replica-b');
    await waitFor(() => b.daemon.status().role === 'standby', {
      description: 'b stands by',
      timeoutMs: 15_000,
    });
    const [first] = (await f.session.children(f.layout.syncersDir())).children.sort(
      (x, y) => Number(x.slice(-10)) - Number(y.slice(-10)),
    );
    await f.session.remove(f.layout.syncerCandidate(first as string));
    // b leads now; a is a candidate again behind it, on the same session, instead of waiting for expiry.
    await waitFor(() => b.daemon.status().role === 'leader', {
      description: 'b takes over',
      timeoutMs: 10_000,
    });
    await waitFor(() => a.daemon.status().role === 'standby', {
      description: 'a rejoins',
      timeoutMs: 10_000,
    });
    expect((await f.session.children(f.layout.syncersDir())).children).toHaveLength(2);
    const sha = await commitAndPush(
      { 'services/recommender/config/after-reset.yaml': 'ok: 1\n' },
      'After reset',
    );
    await postPushWebhook(`${b.base}/webhook`, SECRET, { after: sha });
    await waitFor(async () => (await headCommit()) === sha, { description: 'b mirrors', timeoutMs: 10_000 });
    // Stop b: a leads again.
    await b.daemon.close();
    await waitFor(() => a.daemon.status().role === 'leader', {
      description: 'a leads again',
      timeoutMs: 10_000,
    });
  });

  it('refuses at start a branch that no environment follows, saying what to fix', async () => {
    await f.work.git('branch', '-f', 'typo');
    await f.work.push(f.repoUrl, 'refs/heads/typo:refs/heads/typo');
    const daemon = new SyncerDaemon(await configFor('replica-typo', { branch: 'typo' }), quietLogger);
    daemons.push(daemon);
    await expect(daemon.start()).rejects.toMatchObject({
      code: 'BRANCH_NOT_TRACKED',
      message: expect.stringContaining('no environment follows branch "typo"'),
    });
  });

  /** A leader in a process of its own, and an in-process standby `b` waiting behind it. */
  const leaderProcessAndStandby = async (sessionTimeout: string) => {
    const leader = spawnCairn([
      'sync',
      '--watch',
      '--repo',
      f.repoUrl,
      '--zk',
      f.zk.connectString,
      '--session-timeout',
      sessionTimeout,
      '--poll',
      '1h',
      '--replica-id',
      'child-leader',
      '--cache-dir',
      await mkdtemp(join(tmpdir(), 'cairn-child-')),
    ]);
    const exited = new Promise<number | null>((resolve) => leader.once('exit', (code) => resolve(code)));
    await waitFor(async () => (await f.session.children('/cairn/syncers')).children.length === 1, {
      description: 'the child joins the election',
      // Starting the CLI from source alone took 12 s on a loaded machine.
      timeoutMs: 60_000,
    });
    const b = await startDaemon('replica-b');
    await waitFor(() => b.daemon.status().role === 'standby', {
      description: 'b stands by',
      timeoutMs: 10_000,
    });
    const takeover = () =>
      waitFor(() => b.daemon.status().role === 'leader', {
        description: 'b takes over',
        timeoutMs: 10_000,
        intervalMs: 20,
      });
    return { leader, exited, takeover };
  };

  it('takes over within the session timeout when the leader process is killed', async () => {
    const { leader, takeover } = await leaderProcessAndStandby('2s');
    try {
      leader.kill('SIGKILL');
      const killedAt = Date.now();
      await takeover();
      // Session timeout 2 s; the server notices expiry on its next tick.
      expect(Date.now() - killedAt).toBeLessThan(4000);
    } finally {
      leader.kill('SIGKILL');
    }
  }, 120_000);

  it('hands leadership over at once on SIGTERM, without waiting for the session timeout', async () => {
    const { leader, exited, takeover } = await leaderProcessAndStandby('20s');
    try {
      leader.kill('SIGTERM');
      const stoppedAt = Date.now();
      expect(await exited).toBe(0);
      await takeover();
      // Far below the 20 s session timeout: the leader removed its election node on the way out.
      expect(Date.now() - stoppedAt).toBeLessThan(5000);
    } finally {
      leader.kill('SIGKILL');
    }
  }, 120_000);

  it('collects content nobody needs once commits stop, never on the pass that mirrors a commit', async () => {
    const lines: { msg: string; time: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const daemon = new SyncerDaemon(await configFor('replica-a'), pino({ level: 'info' }, sink));
    daemons.push(daemon);
    const { port } = await daemon.start();
    await waitFor(() => daemon.status().ready && daemon.status().role === 'leader', {
      description: 'leading and ready',
      timeoutMs: 15_000,
    });
    const settings = (await readFile(join(f.work.dir, 'cairn.yaml'), 'utf8')).replace(
      /historyRetention: \d+/,
      'historyRetention: 50\n  snapshotRetention: 1',
    );
    const file = 'services/recommender/config/collected.yaml';
    const first = await commitAndPush({ 'cairn.yaml': settings, [file]: 'n: 1\n' }, 'Keep one snapshot');
    await postPushWebhook(`http://127.0.0.1:${port}/webhook`, SECRET, { after: first });
    await waitFor(async () => (await headCommit().catch(() => '')) === first, {
      description: 'the first commit mirrored',
      timeoutMs: 15_000,
    });
    const firstContent = f.layout.content(contentId(Buffer.from('n: 1\n')));
    expect(await f.session.exists(firstContent)).toBeDefined();
    for (const n of [2, 3]) {
      const sha = await commitAndPush({ [file]: `n: ${n}\n` }, `Change ${n}`);
      await postPushWebhook(`http://127.0.0.1:${port}/webhook`, SECRET, { after: sha });
      await waitFor(async () => (await headCommit()) === sha, {
        description: `commit ${n} mirrored`,
        timeoutMs: 15_000,
      });
      // A second delivery at once, as when a poll's pass mirrored the commit before its webhook
      // came: that pass finds nothing new, and must leave collection to the quiet pass.
      await postPushWebhook(`http://127.0.0.1:${port}/webhook`, SECRET, { after: sha });
    }
    // No poll (1 h): the pass asked for once the commits stopped collects what no snapshot kept names.
    // The daemon logs the collection once ZooKeeper answered its transaction, which this session may
    // see done before: wait for both.
    const collected = () => lines.some((l) => l.msg === 'unreferenced content collected');
    await waitFor(async () => collected() && (await f.session.exists(firstContent)) === undefined, {
      description: 'the first commit’s content collected, and the collection logged',
      timeoutMs: 20_000,
    });
    const mirrored = lines.filter((l) => l.msg === 'commit mirrored').map((l) => l.time);
    const collections = lines.filter((l) => l.msg === 'unreferenced content collected').map((l) => l.time);
    for (const at of collections) {
      const lastMirrored = Math.max(...mirrored.filter((t) => t <= at));
      expect(at - lastMirrored).toBeGreaterThanOrEqual(COLLECTION_QUIET_MS);
    }
  });

  it('repacks its clone once commits stop and it holds more packs than its limit; a failed repack is logged, and it mirrors on', async () => {
    const lines: { level: number; msg: string; code?: string; packsAfter?: number }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const cacheDir = await mkdtemp(join(tmpdir(), 'cairn-daemon-cache-'));
    const daemon = new SyncerDaemon(
      await configFor('replica-a', { cacheDir, packLimit: 2 }),
      pino({ level: 'info' }, sink),
    );
    daemons.push(daemon);
    const { port } = await daemon.start();
    await waitFor(() => daemon.status().ready && daemon.status().role === 'leader', {
      description: 'leading and ready',
      timeoutMs: 15_000,
    });
    const packs = async () =>
      (await readdir(join(cacheDir, 'objects', 'pack'))).filter((name) => name.endsWith('.idx')).length;
    const file = 'services/recommender/config/repacked.yaml';
    const mirror = async (n: number) => {
      const sha = await commitAndPush({ [file]: `n: ${n}\n` }, `Repack ${n}`);
      await postPushWebhook(`http://127.0.0.1:${port}/webhook`, SECRET, { after: sha });
      await waitFor(async () => (await headCommit()) === sha, {
        description: `commit ${n} mirrored`,
        timeoutMs: 15_000,
      });
    };
    // A setting git repack cannot parse: every repack fails until it goes.
    const gitConfig = (...args: string[]) => execFileSync('git', ['--git-dir', cacheDir, 'config', ...args]);
    gitConfig('repack.writeBitmaps', 'not-a-boolean');
    await mirror(1);
    await mirror(2);
    expect(await packs()).toBeGreaterThan(2);
    await waitFor(() => lines.some((line) => line.code === 'REPACK_FAILED'), {
      description: 'the failed repack logged',
      timeoutMs: 20_000,
    });
    expect(lines.find((line) => line.code === 'REPACK_FAILED')).toMatchObject({ level: 40 });

    gitConfig('--unset', 'repack.writeBitmaps');
    await mirror(3);
    await waitFor(() => lines.some((line) => line.msg === 'repacked the clone'), {
      description: 'the clone repacked once commits stopped',
      timeoutMs: 20_000,
    });
    expect(await packs()).toBe(1);
    expect(lines.find((line) => line.msg === 'repacked the clone')).toMatchObject({ packsAfter: 1 });
    await mirror(4);
    expect(await f.actualView()).toEqual(await f.expectedView());
  });
});
