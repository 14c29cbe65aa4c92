import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedWriter, ZkLayout, ZkSession } from '../../core/index.js';
import { connect, type ServiceConfig } from '../../sdk/index.js';
import { type GitSource, openGitSource } from '../../syncer/git/index.js';
import { Mirror, type SyncTarget } from '../../syncer/mirror.js';
import { ensureLayout } from '../../syncer/zk/bootstrap.js';
import {
  createBareRepo,
  createWorkRepo,
  type GitServer,
  startEnsemble,
  startGitServer,
  type WorkRepo,
  waitFor,
  type ZooKeeperEnsemble,
} from '../harness/index.js';
import { EXAMPLE_REPO_DIR } from '../support/example-repo.js';
import { quietLogger } from '../support/syncer-fixture.js';
import { checkPairs, pair, recordEvents } from './sdk-test-support.js';

/** A syncer's mirror on its own session, replaced when that session dies or hangs. */
class Writer {
  private session: ZkSession | undefined;
  private target: SyncTarget | undefined;
  private readonly mirror: Mirror;
  private disconnectedSince: number | undefined;
  private terms = 0;

  constructor(
    private readonly connectString: string,
    source: GitSource,
    private readonly layout: ZkLayout,
  ) {
    this.mirror = new Mirror({ layout, source, branch: 'main', logger: quietLogger });
  }

  /** Mirrors the branch head, retrying through the failover. */
  async sync(description: string): Promise<void> {
    await waitFor(
      async () => {
        const target = await this.current();
        return (await this.mirror.sync(target)).kind !== 'refused';
      },
      { description, timeoutMs: 40_000, intervalMs: 200 },
    );
  }

  async close(): Promise<void> {
    await this.session?.close();
  }

  private async current(): Promise<SyncTarget> {
    const state = this.session?.state;
    if (state === 'disconnected') this.disconnectedSince ??= Date.now();
    else this.disconnectedSince = undefined;
    const stale = this.disconnectedSince !== undefined && Date.now() - this.disconnectedSince > 8000;
    if (!this.session || !this.target || state === 'expired' || state === 'closed' || stale) {
      await this.session?.close();
      this.session = undefined;
      this.disconnectedSince = undefined;
      const session = await ZkSession.connect({
        connectString: this.connectString,
        sessionTimeoutMs: 10_000,
        connectTimeoutMs: 5000,
      });
      this.session = session;
      await ensureLayout(session, this.layout);
      const fence = await session.create('/writer-fence-', new Uint8Array(0), 'ephemeral-sequential');
      this.target = {
        session,
        writer: new FencedWriter(session, () => ({ op: 'check', path: fence, version: 0 })),
        term: ++this.terms,
      };
    }
    return this.target;
  }
}

describe('a connected service while the ensemble loses its leader', () => {
  let ensemble: ZooKeeperEnsemble;
  let git: GitServer;
  let work: WorkRepo;
  let repoUrl: string;
  let cacheDir: string;
  let source: GitSource;
  let writer: Writer;
  let config: ServiceConfig | undefined;
  beforeAll(async () => {
    [ensemble, git] = await Promise.all([startEnsemble(3), startGitServer()]);
    repoUrl = await createBareRepo(git, 'config');
    work = await createWorkRepo();
    await work.copyFrom(EXAMPLE_REPO_DIR);
    await work.write(pair(0));
    await work.commit('Import the configuration');
    await work.push(repoUrl);
    cacheDir = await mkdtemp(join(tmpdir(), 'cairn-sdk-ensemble-'));
    source = openGitSource({ url: repoUrl, branch: 'main', cacheDir });
    writer = new Writer(ensemble.connectString, source, new ZkLayout());
    await writer.sync('the first commit mirrored');
  });
  afterAll(async () => {
    await config?.close();
    await writer?.close();
    source?.close();
    await Promise.all([ensemble?.close(), git?.close()]);
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it('loses no update and mixes no snapshot while commits flow and the leader is killed', async () => {
    config = await connect({
      zk: ensemble.connectString,
      service: 'recommender',
      env: 'dev',
      sessionTimeoutMs: 10_000,
      requestTimeoutMs: 3000,
    });
    const events = recordEvents(config);
    const pairs = checkPairs(config);
    let last = '';
    let killed: Promise<void> | undefined;
    for (let n = 1; n <= 8; n++) {
      await work.write(pair(n));
      last = await work.commit(`Pair ${n}`);
      await work.push(repoUrl);
      // The leader dies while this commit is being mirrored.
      if (n === 4) killed = ensemble.leader().then((leader) => leader.kill());
      await writer.sync(`pair ${n} mirrored`);
    }
    await killed;
    await waitFor(() => config?.commit === last, { description: 'the last commit', timeoutMs: 30_000 });
    expect(config.get('pair/a.yaml')).toEqual({ n: 8 });
    expect(pairs.mixed).toEqual([]);
    expect(pairs.seen.at(-1)).toBe(8);
    expect(pairs.seen).toEqual([...pairs.seen].sort((a, b) => a - b));
    expect(events.connection).toContain('disconnected');
    expect(config.connection).toBe('connected');
  });
});
