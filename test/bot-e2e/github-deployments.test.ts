import { pino } from 'pino';
import { Probot } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCairnApp } from '../../bot/app.js';
import { RepositoryGitHub } from '../../bot/applied/repository-github.js';
import { GitHubDeployments } from '../../bot/deployments/github-deployments.js';
import { type BotZooKeeper, openBotZooKeeper } from '../../bot/deployments/start-deployments.js';
import { answerMarker } from '../../bot/handlers/deployment-comment.js';
import { type AppliedChecksSettings, DEFAULT_BOT_SETTINGS } from '../../bot/settings.js';
import {
  connectSession,
  type DeploymentRecord,
  decodeDeploymentControlRecord,
  encodeDeploymentRecord,
  encodeServiceRecord,
  newDeployment,
  type ZkSession,
  zooKeeperEndpoint,
} from '../../core/index.js';
import {
  createAppCredentials,
  type EmulatedRepository,
  GitHubEmulator,
  type ServedEmulator,
  serveGitHubEmulator,
  type WebhookEvent,
} from '../github-emulator/index.js';
import { startZooKeeper, waitFor, type ZooKeeperServer } from '../harness/index.js';
import { withoutRetries } from './test-app.js';

/*
 * GitHub sees Cairn's deployments: deployment records written to a real ZooKeeper as the controller
 * writes them become GitHub Deployments with their statuses on the emulated GitHub (over HTTP, every
 * request checked against GitHub's OpenAPI description), and `/cairn pause` comments on the release's
 * pull request become control records, for those policy.yaml allows only.
 */

const REPOSITORY = 'northwind/platform-config';
const SRE = 'sam-sre';
const OUTSIDER = 'otto-outsider';

describe('deployments on GitHub', () => {
  let zk: ZooKeeperServer;
  let session: ZkSession;
  let github: GitHubEmulator;
  let repo: EmulatedRepository;
  let api: ServedEmulator;
  let probot: Probot;
  let zookeeper: BotZooKeeper;
  let settings: AppliedChecksSettings;
  let mirror: GitHubDeployments | undefined;
  let releasePr: number;
  let releaseCommit: string;

  beforeAll(async () => {
    // The emulator first: reading GitHub's description can hold the event loop longer than a session lives.
    const credentials = createAppCredentials();
    github = new GitHubEmulator(credentials);
    zk = await startZooKeeper();
    const endpoint = zooKeeperEndpoint({
      connectString: zk.connectString,
      root: '/cairn',
      sessionTimeoutMs: 10_000,
      connectTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
    });
    session = await connectSession(endpoint);
    repo = github.createRepository(REPOSITORY, {
      files: new Map([['cairn.yaml', 'apiVersion: cairn/v1\n']]),
      installationId: 77,
      ownerType: 'Organization',
    });
    repo.commit(
      'release',
      { 'services/search-api/releases/prod.yaml': 'version: v2.15.0\n' },
      'Release v2.15.0',
    );
    releasePr = repo.openPullRequest({ head: 'release', author: 'dana-dev' }).number;
    releaseCommit = repo.merge(releasePr, { by: 'tomas-novak' }).sha;
    api = await serveGitHubEmulator(github);
    probot = new Probot({
      appId: credentials.appId,
      privateKey: credentials.privateKey,
      secret: credentials.webhookSecret,
      baseUrl: api.url,
      Octokit: withoutRetries,
      log: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    });
    settings = { endpoint, repository: { owner: 'northwind', repo: 'platform-config' }, deadlineMs: 60_000 };
    zookeeper = openBotZooKeeper(settings, probot.log);
    await probot.load(createCairnApp({ settings: DEFAULT_BOT_SETTINGS, zookeeper }));
    // policy.yaml lets the SREs steer prod, through the service record as the syncer writes it.
    await session.mkdirp(endpoint.layout.servicesDir());
    await session.create(
      endpoint.layout.service('search-api'),
      encodeServiceRecord({
        name: 'search-api',
        description: 'Search.',
        owners: ['team:search'],
        dependsOn: [],
        environments: {},
        steering: [
          {
            env: 'prod',
            rule: 'prod-steering',
            actions: ['pause', 'resume', 'abort'],
            from: [`user:${SRE}`],
          },
        ],
      }),
    );
    mirror = startMirror();
  });

  afterAll(async () => {
    await mirror?.close();
    await zookeeper?.keeper.close();
    await session?.close();
    await api?.close();
    await zk?.close();
  });

  function startMirror(): GitHubDeployments {
    const started = new GitHubDeployments({
      keeper: zookeeper.keeper,
      layout: settings.endpoint.layout,
      repository: new RepositoryGitHub(probot, settings.repository),
      log: probot.log,
    });
    started.start();
    return started;
  }

  const layout = () => settings.endpoint.layout;

  /** A deployment as the controller creates it, of the merged release. */
  function deploymentOf(id: string, commit = releaseCommit): DeploymentRecord {
    return newDeployment({
      id,
      service: 'search-api',
      env: 'prod',
      release: {
        version: 'v2.15.0',
        commit,
        author: { name: 'Dana Dev', email: 'dana@example.com' },
        approvals: ['tomas-novak'],
        manifest: {
          apiVersion: 'cairn/v1',
          version: 'v2.15.0',
          deploy: { command: 'deploy.sh' },
          strategy: { canary: { hosts: 1 }, batchSize: 2 },
        },
      },
      hosts: ['s1', 's2', 's3'].map((host) => ({ host })),
      now: new Date(),
      actor: 'controller',
    });
  }

  async function write(record: DeploymentRecord): Promise<void> {
    const path = layout().deployment(record.service, record.env, record.id);
    if (await session.exists(path)) await session.set(path, encodeDeploymentRecord(record));
    else {
      await session.mkdirp(layout().deployments(record.service, record.env));
      await session.create(path, encodeDeploymentRecord(record));
      // As the controller does: operators may add control actions, never make the folder.
      await session.create(
        layout().deploymentControls(record.service, record.env, record.id),
        new Uint8Array(),
      );
    }
  }

  /** The GitHub Deployment of a Cairn deployment once its newest status is `state`. */
  function githubStatus(id: string, state: string) {
    return waitFor(
      () => {
        github.assertNoViolations();
        const found = repo
          .deployments({ environment: 'prod' })
          .find((d) => (d.payload.cairn as { key?: string } | undefined)?.key === `search-api/prod/${id}`);
        return found?.statuses.at(-1)?.state === state ? found : undefined;
      },
      { description: `the GitHub deployment of ${id} is ${state}`, timeoutMs: 20_000, intervalMs: 25 },
    );
  }

  async function controls(id: string) {
    const folder = layout().deploymentControls('search-api', 'prod', id);
    const names = (await session.childrenIfExists(folder)).sort();
    return Promise.all(
      names.map(async (name) => {
        const path = layout().deploymentControl('search-api', 'prod', id, name);
        return decodeDeploymentControlRecord((await session.get(path)).data, path);
      }),
    );
  }

  const answersTo = (commentId: number) =>
    repo.comments(releasePr).filter((c) => c.user === github.bot && c.body.includes(answerMarker(commentId)));

  async function comment(user: string, body: string): Promise<{ id: number; event: WebhookEvent }> {
    const event = repo.comment(releasePr, user, body);
    await probot.receive(event as Parameters<Probot['receive']>[0]);
    return { id: (event.payload.comment as { id: number }).id, event };
  }

  it('mirrors a deployment as a GitHub Deployment of its commit, with a status per state', async () => {
    const pending = deploymentOf('d-0000000001');
    await write(pending);
    const queued = await githubStatus('d-0000000001', 'queued');
    expect(queued).toMatchObject({ sha: releaseCommit, ref: releaseCommit, environment: 'prod' });
    await write({ ...pending, state: 'progressing' });
    await githubStatus('d-0000000001', 'in_progress');
    await write({ ...pending, state: 'succeeded', step: 1 });
    const done = await githubStatus('d-0000000001', 'success');
    expect(done.statuses.map((s) => s.state)).toEqual(['queued', 'in_progress', 'success']);
    expect(repo.deployments()).toHaveLength(1);
  });

  it('marks a superseded deployment inactive, and a restarted bot posts nothing twice', async () => {
    const first = deploymentOf('d-0000000002');
    await write({ ...first, state: 'progressing' });
    await githubStatus('d-0000000002', 'in_progress');
    await write({ ...first, state: 'superseded', reason: 'v2.16.0 came' });
    const superseded = await githubStatus('d-0000000002', 'inactive');
    expect(superseded.statuses.at(-1)?.description).toBe('v2.15.0 superseded: v2.16.0 came');
    await mirror?.close();
    const posted = github.requestsTo('POST', /\/deployments/).length;
    const lookedUp = github.requestsTo('GET', /\/deployments$/).length;
    mirror = startMirror();
    await waitFor(() => github.requestsTo('GET', /\/deployments$/).length >= lookedUp + 2, {
      description: 'the restarted bot looked both deployments up',
      timeoutMs: 20_000,
      intervalMs: 25,
    });
    await mirror.idle();
    expect(github.requestsTo('POST', /\/deployments/)).toHaveLength(posted);
    github.assertNoViolations();
  });

  it('records /cairn pause by someone policy.yaml allows, once, however often GitHub delivers it', async () => {
    await write({ ...deploymentOf('d-0000000003'), state: 'progressing' });
    const { id, event } = await comment(SRE, '/cairn pause error rate up on the canary');
    await probot.receive(event as Parameters<Probot['receive']>[0]);
    const recorded = await controls('d-0000000003');
    expect(recorded).toEqual([
      {
        action: 'pause',
        by: SRE,
        at: expect.any(String),
        reason: 'error rate up on the canary',
        source: {
          kind: 'github-comment',
          commentId: id,
          url: expect.stringContaining(`#issuecomment-${id}`),
        },
      },
    ]);
    const answers = answersTo(id);
    expect(answers).toHaveLength(1);
    expect(answers[0]?.body).toContain('search-api/prod d-0000000003: **pause** recorded');
    expect(repo.reactions(id)).toEqual(['+1']);
    github.assertNoViolations();
  });

  it('records nothing for someone policy.yaml does not allow, and says who may', async () => {
    const { id } = await comment(OUTSIDER, '/cairn abort');
    expect((await controls('d-0000000003')).map((c) => c.by)).toEqual([SRE]);
    // As it reads on GitHub, once markdown's escapes are gone.
    expect(answersTo(id)[0]?.body.replaceAll('\\', '')).toContain(
      `nothing recorded, ${OUTSIDER} may not abort: policy.yaml's deployments rule "prod-steering" allows user:${SRE}`,
    );
    expect(repo.reactions(id)).toEqual([]);
  });

  it('answers an unknown command, one the state does not allow, and one with nothing running, recording nothing', async () => {
    const unknown = await comment(SRE, '/cairn explode');
    expect(answersTo(unknown.id)[0]?.body).toContain('`/cairn explode` is no command I know');
    const early = await comment(SRE, '/cairn resume');
    expect(answersTo(early.id)[0]?.body.replaceAll('\\', '')).toContain(
      'd-0000000003: nothing recorded, it is progressing: only a paused deployment resumes',
    );
    repo.commit('draft', { 'README.md': 'draft\n' }, 'Draft');
    const draft = repo.openPullRequest({ head: 'draft', author: 'dana-dev' }).number;
    const open = repo.comment(draft, SRE, '/cairn pause');
    await probot.receive(open as Parameters<Probot['receive']>[0]);
    expect(repo.comments(draft).find((c) => c.user === github.bot)?.body).toContain(
      `nothing to pause: #${draft} is not merged`,
    );
    await write({ ...deploymentOf('d-0000000003'), state: 'aborted' });
    const idle = await comment(SRE, '/cairn resume');
    expect(answersTo(idle.id)[0]?.body).toContain('nothing to resume: no deployment of');
    const ordinary = await comment(SRE, 'thanks, looks good');
    expect(answersTo(ordinary.id)).toEqual([]);
    expect(await controls('d-0000000003')).toHaveLength(1);
    github.assertNoViolations();
  });
});
