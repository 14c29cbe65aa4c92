import { join } from 'node:path';
import { pino } from 'pino';
import { Probot } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppliedChecks } from '../../bot/applied/applied-checks.js';
import { startAppliedChecks } from '../../bot/applied/start-applied-checks.js';
import { appliedCheckName, type BotSettings, DEFAULT_BOT_SETTINGS } from '../../bot/index.js';
import {
  type AgentRecord,
  type AgentServiceStatus,
  type EnvironmentSnapshot,
  encodeAgentRecord,
  encodeInstanceRecord,
  environmentKey,
  type InstanceRecord,
  readEnvironment,
  zooKeeperEndpoint,
} from '../../core/index.js';
import type { Mirror } from '../../syncer/mirror.js';
import {
  type CheckRunRecord,
  createAppCredentials,
  type EmulatedRepository,
  GitHubEmulator,
  type ServedEmulator,
  serveGitHubEmulator,
} from '../github-emulator/index.js';
import { waitFor } from '../harness/index.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { withoutRetries } from './test-app.js';

/*
 * The "cairn / applied" checks end to end: commits merged on the emulated GitHub are pushed to a
 * real git server, mirrored into a real ZooKeeper by the syncer's mirror, and the bot follows what
 * hosts (agent records, written as agents write them) and SDK instances report, posting its check
 * runs to the emulator over HTTP, every request checked against GitHub's OpenAPI description.
 */

const REPOSITORY = 'northwind/platform-config';
const DEV = appliedCheckName('dev');
const PROD = appliedCheckName('prod');

const FILES = new Map<string, string>([
  [
    'cairn.yaml',
    'apiVersion: cairn/v1\nenvironments:\n  dev:\n    tracks: { branch: main }\n  prod:\n    tracks: { tag: "v*" }\n',
  ],
  [
    'services/shop-web/service.yaml',
    [
      'apiVersion: cairn/v1',
      'description: The web shop, whose files the host agents write.',
      'owners: [team:platform]',
      'files:',
      '  directory: /srv/shop-web',
      'environments:',
      '  dev:',
      '    hosts:',
      '      - host: web-dev-01',
      '      - host: web-dev-02',
      '  prod:',
      '    hosts:',
      '      - host: web-prod-01',
      '',
    ].join('\n'),
  ],
  ['services/shop-web/config/app.yaml', 'greeting: hello\n'],
  [
    'services/catalog/service.yaml',
    [
      'apiVersion: cairn/v1',
      'description: The catalogue, which reads its configuration through the SDK.',
      'owners: [team:platform]',
      'environments:',
      '  dev:',
      '    hosts:',
      '      - host: catalog-dev-01',
      '',
    ].join('\n'),
  ],
  ['services/catalog/config/catalog.yaml', 'pageSize: 20\n'],
]);

describe('the "cairn / applied" checks', () => {
  let f: SyncerFixture;
  let mirror: Mirror;
  let github: GitHubEmulator;
  let repo: EmulatedRepository;
  let api: ServedEmulator;
  let reporter: AppliedChecks | undefined;
  let probot: Probot;
  let settings: BotSettings;
  const agents = new Map<string, AgentRecord>();

  beforeAll(async () => {
    f = await startSyncerFixture({ tagTracking: true });
    mirror = f.newMirror();
    const credentials = createAppCredentials();
    github = new GitHubEmulator(credentials);
    repo = github.createRepository(REPOSITORY, {
      files: FILES,
      installationId: 77,
      ownerType: 'Organization',
    });
    api = await serveGitHubEmulator(github);
    await publish(repo.ref('main') as string);
    probot = new Probot({
      appId: credentials.appId,
      privateKey: credentials.privateKey,
      secret: credentials.webhookSecret,
      baseUrl: api.url,
      Octokit: withoutRetries,
      log: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
    });
    settings = {
      ...DEFAULT_BOT_SETTINGS,
      appliedChecks: {
        endpoint: zooKeeperEndpoint({
          connectString: f.zk.connectString,
          root: f.layout.root,
          sessionTimeoutMs: 4000,
          connectTimeoutMs: 5000,
          requestTimeoutMs: 5000,
        }),
        repository: { owner: 'northwind', repo: 'platform-config' },
        deadlineMs: 10 * 60_000,
      },
    };
    reporter = startAppliedChecks(probot, settings);
  });

  afterAll(async () => {
    await reporter?.close();
    await api?.close();
    await f?.close();
  });

  /** The syncer's side of a push to GitHub: the commit reaches the git server and is mirrored. */
  async function publish(sha: string): Promise<void> {
    await github.objects.copyToGitDir(sha, join(f.work.dir, '.git'));
    await f.work.git('push', '--quiet', '--force', f.repoUrl, `${sha}:refs/heads/main`);
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
  }

  /** A pull request changing `files`, merged: the merge commit. */
  function merge(branch: string, files: Record<string, string>): string {
    repo.commit(branch, files, `Change ${branch}`);
    const { number } = repo.openPullRequest({ head: branch, author: 'dana-dev' });
    return repo.merge(number, { by: 'tomas-novak' }).sha;
  }

  async function snapshot(service: string, env: string): Promise<EnvironmentSnapshot> {
    const read = await readEnvironment(f.session, f.layout, service, env);
    if (read.kind !== 'snapshot') throw new Error(`${service}/${env} serves nothing`);
    return read.snapshot;
  }

  /** Writes a host's agent record, as its agent would after working on one service. */
  async function report(
    host: string,
    service: string,
    env: string,
    status: Pick<AgentServiceStatus, 'state'> & Partial<AgentServiceStatus>,
  ): Promise<void> {
    const current = agents.get(host) ?? {
      host,
      pid: 4000 + agents.size,
      startedAt: '2024-12-09T09:00:00Z',
      services: {},
    };
    const next: AgentRecord = {
      ...current,
      services: {
        ...current.services,
        [environmentKey(service, env)]: {
          service,
          env,
          directory: `/srv/${service}`,
          files: {},
          drift: [],
          ...status,
        },
      },
    };
    agents.set(host, next);
    const path = f.layout.agent(host);
    if (await f.session.exists(path)) await f.session.set(path, encodeAgentRecord(next));
    else await f.session.create(path, encodeAgentRecord(next), 'ephemeral');
  }

  /** The host applied what its environment serves now. */
  async function applied(host: string, service: string, env: string): Promise<void> {
    const { pointer, contentIds } = await snapshot(service, env);
    await report(host, service, env, {
      state: 'applied',
      commit: pointer.revision.commit,
      manifest: pointer.manifest,
      appliedAt: new Date().toISOString(),
      files: Object.fromEntries(contentIds),
    });
  }

  /** An SDK instance of the catalogue in dev that serves what its environment serves now. */
  async function instanceServesNow(id: string): Promise<void> {
    const { pointer, contentIds } = await snapshot('catalog', 'dev');
    const record: InstanceRecord = {
      id,
      service: 'catalog',
      env: 'dev',
      host: 'catalog-dev-01',
      port: 8080,
      pid: 31,
      startedAt: '2024-12-09T09:00:00Z',
      commit: pointer.revision.commit,
      source: 'zookeeper',
      files: Object.fromEntries(contentIds),
    };
    const path = f.layout.instance('catalog', 'dev', id);
    if (await f.session.exists(path)) await f.session.set(path, encodeInstanceRecord(record));
    else {
      await f.session.mkdirp(f.layout.instances('catalog', 'dev'));
      await f.session.create(path, encodeInstanceRecord(record), 'ephemeral');
    }
  }

  function checkRun(name: string, sha: string, done: (run: CheckRunRecord) => boolean, description: string) {
    return waitFor(
      () => {
        github.assertNoViolations();
        const run = repo.latestCheckRun(name, sha);
        return run && done(run) ? run : undefined;
      },
      { description: `"${name}" on ${sha.slice(0, 7)}: ${description}`, timeoutMs: 30_000 },
    );
  }

  const summary = (run: CheckRunRecord) => run.output.summary ?? '';
  const row = (service: string, who: string, state: string) => `| ${service} | ${who} | ${state} |`;

  it('waits for every host and instance of a merge, and succeeds only when the last one reported', async () => {
    const initial = repo.ref('main') as string;
    await instanceServesNow('catalog-7f3');
    const first = await checkRun(
      DEV,
      initial,
      (run) => run.output.title === '1 of 3 applied in dev; waiting for web-dev-01 and web-dev-02',
      'waiting for both hosts, the instance counted',
    );
    expect(first.status).toBe('in_progress');

    const merged = merge('greeting', {
      'services/shop-web/config/app.yaml': 'greeting: welcome\n',
      'services/catalog/config/catalog.yaml': 'pageSize: 50\n',
    });
    await publish(merged);
    // The first commit's check stops waiting: a later commit changed both services in dev.
    const superseded = await checkRun(DEV, initial, (run) => run.status === 'completed', 'superseded');
    expect(superseded.conclusion).toBe('neutral');
    expect(superseded.output.title).toBe(`Superseded in dev by ${merged.slice(0, 7)}: 1 of 3 had applied it`);

    let run = await checkRun(DEV, merged, (r) => r.status === 'in_progress', 'in progress');
    expect(run.output.title).toBe(
      '0 of 3 applied in dev; waiting for catalog-7f3, web-dev-01 and web-dev-02',
    );
    expect(summary(run)).toContain(row('catalog', 'instance catalog-7f3 (catalog-dev-01\\:8080)', 'waiting'));

    await applied('web-dev-01', 'shop-web', 'dev');
    run = await checkRun(
      DEV,
      merged,
      (r) => summary(r).includes(row('shop-web', 'host web-dev-01', 'applied')),
      'web-dev-01 applied',
    );
    expect(run.status).toBe('in_progress');
    await instanceServesNow('catalog-7f3');
    run = await checkRun(
      DEV,
      merged,
      (r) => r.output.title === '2 of 3 applied in dev; waiting for web-dev-02',
      'the instance applied',
    );
    expect(run.status).toBe('in_progress');

    // Nothing so far concluded the run: no success before the last host reported.
    const patches = () =>
      github
        .requestsTo('PATCH', /\/check-runs\/\d+$/)
        .filter((r) => (r.responseBody as { id?: number })?.id === run.id);
    expect(patches().some((r) => (r.requestBody as { conclusion?: string }).conclusion !== undefined)).toBe(
      false,
    );

    await applied('web-dev-02', 'shop-web', 'dev');
    const done = await checkRun(DEV, merged, (r) => r.status === 'completed', 'success');
    expect(done.conclusion).toBe('success');
    expect(done.output.title).toBe('Applied in dev: 2 hosts and 1 instance');
    expect(repo.checkRuns({ name: DEV, headSha: merged })).toHaveLength(1);
    expect(repo.checkRuns({ name: DEV, headSha: initial })).toHaveLength(1);
    // The app found its installation once, as itself, and acted as the installation since.
    expect(
      github.requests.filter((r) => r.operationId === 'apps/get-repo-installation').map((r) => r.status),
    ).toEqual([200]);
  });

  it('fails as soon as one host rejects, listing its step, exit and output, and keeps following the others', async () => {
    const merged = merge('upstreams', {
      'services/shop-web/config/app.yaml': 'greeting: "`hi` <b>there</b>"\n',
    });
    await publish(merged);
    await checkRun(DEV, merged, (r) => r.status === 'in_progress', 'in progress');
    const { pointer } = await snapshot('shop-web', 'dev');
    const previous = agents.get('web-dev-02')?.services['shop-web/dev'];
    await report('web-dev-02', 'shop-web', 'dev', {
      ...previous,
      state: 'rejected',
      rejected: {
        commit: merged,
        manifest: pointer.manifest,
        run: {
          step: 'check',
          command: 'shop-web --check-config app.yaml',
          exitCode: 3,
          durationMs: 120,
          outputTail: 'reading app.yaml\nerror: greeting must be plain text, got `hi` <b>there</b>\n',
          at: new Date().toISOString(),
        },
      },
    });
    const failed = await checkRun(DEV, merged, (r) => r.status === 'completed', 'failure');
    expect(failed.conclusion).toBe('failure');
    expect(failed.output.title).toBe('Rejected in dev by web-dev-02');
    expect(summary(failed)).toContain(
      [
        '**web-dev-02** · shop-web · check exited 3 · `shop-web --check-config app.yaml`',
        '',
        '```text',
        'reading app.yaml',
        'error: greeting must be plain text, got `hi` <b>there</b>',
        '```',
      ].join('\n'),
    );
    expect(summary(failed)).toContain(row('shop-web', 'host web-dev-01', 'waiting'));

    // The other host reports later: the table follows, the conclusion stays.
    await applied('web-dev-01', 'shop-web', 'dev');
    const updated = await checkRun(
      DEV,
      merged,
      (r) => summary(r).includes(row('shop-web', 'host web-dev-01', 'applied')),
      'web-dev-01 applied',
    );
    expect(updated.conclusion).toBe('failure');
    expect(repo.checkRuns({ name: DEV, headSha: merged })).toHaveLength(1);
  });

  it('posts the check of an environment that follows release tags on the tagged commit', async () => {
    const tagged = repo.ref('main') as string;
    await f.work.git('push', '--quiet', f.repoUrl, `${tagged}:refs/tags/v1.0.0`);
    expect((await mirror.sync(f.target)).kind).toBe('mirrored');
    const waiting = await checkRun(PROD, tagged, (r) => r.status === 'in_progress', 'in progress');
    expect(waiting.output.title).toBe('0 of 1 applied in prod; waiting for web-prod-01');
    expect(summary(waiting)).toContain('(tag `v1.0.0`)');
    await applied('web-prod-01', 'shop-web', 'prod');
    const done = await checkRun(PROD, tagged, (r) => r.status === 'completed', 'success');
    expect(done.conclusion).toBe('success');
    // The dev check of the same commit is its own, and stays as it was.
    expect(repo.latestCheckRun(DEV, tagged)?.conclusion).toBe('failure');
    expect(repo.checkRuns({ name: PROD })).toHaveLength(1);
  });

  it('finds its runs again after a restart, and never posts one twice', async () => {
    const lookups = () => github.requests.filter((r) => r.operationId === 'checks/list-for-ref').length;
    const created = github.requestsTo('POST', /\/check-runs$/).length;
    const looked = lookups();
    await reporter?.close();
    reporter = startAppliedChecks(probot, settings);
    // One lookup per check still in the window: the first commit's, both merges' dev and the tag's prod.
    await waitFor(() => lookups() >= looked + 4, {
      description: 'the runs looked up again',
      timeoutMs: 30_000,
    });
    await reporter?.idle();
    expect(github.requestsTo('POST', /\/check-runs$/)).toHaveLength(created);
    const runs = repo.checkRuns().filter((r) => r.name.startsWith('cairn / applied'));
    expect(new Set(runs.map((r) => `${r.headSha} ${r.name}`)).size).toBe(runs.length);
    github.assertNoViolations();
  });
});
