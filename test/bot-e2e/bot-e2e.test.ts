import { createServer } from 'node:net';
import { pino } from 'pino';
import { Probot, Server } from 'probot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCairnApp } from '../../bot/app.js';
import {
  APPROVAL_RECORD_CHECK,
  APPROVALS_CHECK,
  DEFAULT_BOT_SETTINGS,
  DEFAULT_NOTES_REF,
  VALIDATE_CHECK,
} from '../../bot/index.js';
import type { ApprovalRecord } from '../../bot/record/approval-record.js';
import {
  type AppCredentials,
  createAppCredentials,
  deliverWebhook,
  type EmulatedRepository,
  GitHubEmulator,
  type ServedEmulator,
  serveGitHubEmulator,
  signWebhook,
  type WebhookEvent,
} from '../github-emulator/index.js';
import { waitFor } from '../harness/index.js';
import { exampleRepoFiles, withoutRetries } from './test-app.js';

/*
 * The bot end to end: a real Probot server on a loopback port receives signed webhooks over HTTP from
 * the GitHub emulator, and calls the emulator's REST API over HTTP; every request and response is
 * checked against GitHub's OpenAPI description. Synchronisation is on the emulator's state.
 */

const RELEASE = 'services/search-api/releases/prod.yaml';
const OWNER = 'tomas-novak';
const SRE = 'sam-sre';

/** A loopback port free right now (Probot's Server takes 0 to mean its default, 3000). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('the Cairn GitHub App against an emulated GitHub', () => {
  let credentials: AppCredentials;
  let github: GitHubEmulator;
  let api: ServedEmulator;
  let server: Server;
  let webhookUrl: string;
  let repo: EmulatedRepository;

  beforeAll(async () => {
    credentials = createAppCredentials();
    github = new GitHubEmulator(credentials);
    github.addTeam('northwind', 'sre', [SRE]);
    github.addTeam('northwind', 'search', ['sofia-search']);
    repo = github.createRepository('northwind/platform-config', {
      files: await exampleRepoFiles(),
      installationId: 77,
      ownerType: 'Organization',
    });
    api = await serveGitHubEmulator(github);
    const port = await freePort();
    const log = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
    server = new Server({
      host: '127.0.0.1',
      port,
      log,
      enableStaticFiles: false,
      Probot: Probot.defaults({
        appId: credentials.appId,
        privateKey: credentials.privateKey,
        secret: credentials.webhookSecret,
        baseUrl: api.url,
        Octokit: withoutRetries,
        log,
      }),
    });
    await server.load(createCairnApp({ settings: DEFAULT_BOT_SETTINGS }));
    await server.start();
    webhookUrl = `http://127.0.0.1:${port}/api/github/webhooks`;
  });

  afterAll(async () => {
    await server?.stop();
    await api?.close();
  });

  async function deliver(event: WebhookEvent): Promise<void> {
    const delivery = await deliverWebhook(event, { url: webhookUrl, secret: credentials.webhookSecret });
    expect(delivery.status, delivery.body).toBeLessThan(300);
  }

  /** Waits until the latest run of a check on a commit satisfies `done`; fails on any schema violation. */
  function checkRun(
    name: string,
    sha: string,
    done: (run: NonNullable<ReturnType<EmulatedRepository['latestCheckRun']>>) => boolean,
  ) {
    return waitFor(
      () => {
        github.assertNoViolations();
        const run = repo.latestCheckRun(name, sha);
        return run && done(run) ? run : undefined;
      },
      { description: `"${name}" on ${sha.slice(0, 7)} to reach the expected state`, timeoutMs: 60_000 },
    );
  }

  it('checks, plans, counts approvals and records them on merge', async () => {
    const original = Buffer.from((await exampleRepoFiles()).get(RELEASE) as Uint8Array).toString('utf8');

    // A forged delivery is refused before anything reaches GitHub.
    repo.commit(
      'release-5.8',
      { [RELEASE]: original.replace('version: v5.7.2', 'version: v5.8.0').replace('hosts: 1', 'hosts: 9') },
      'Release 5.8.0',
    );
    const opened = repo.openPullRequest({
      head: 'release-5.8',
      author: 'dana-dev',
      title: 'search-api 5.8.0 to prod',
    });
    const forged = await deliverWebhook(opened.event, {
      url: webhookUrl,
      secret: credentials.webhookSecret,
      signature: signWebhook(JSON.stringify(opened.event.payload), 'not-the-secret'),
    });
    expect(forged.status).toBe(400);
    expect(github.requests).toEqual([]);

    // 1. The broken release manifest: a canary larger than the environment fails validation, at its line.
    await deliver(opened.event);
    const broken = repo.ref('release-5.8') as string;
    const failed = await checkRun(VALIDATE_CHECK, broken, (run) => run.status === 'completed');
    expect(failed.conclusion).toBe('failure');
    expect(failed.annotations).toEqual([
      expect.objectContaining({
        path: RELEASE,
        start_line: 15,
        end_line: 15,
        annotation_level: 'failure',
        title: 'release/unsatisfiable',
      }),
    ]);
    const plan = await waitFor(() => repo.comments(opened.number)[0], { description: 'the plan comment' });
    expect(plan.body).toContain('No plan for');

    // 2. The fix: validation passes on the new head, and the plan shows the deployment.
    const fix = repo.push(
      opened.number,
      { [RELEASE]: original.replace('version: v5.7.2', 'version: v5.8.0') },
      'Canary of one host',
    );
    await deliver(fix.event);
    const head = fix.sha;
    await checkRun(VALIDATE_CHECK, head, (run) => run.conclusion === 'success');
    await waitFor(() => repo.comments(opened.number)[0]?.body.includes('`v5.7.2` → `v5.8.0` on 8 hosts'), {
      description: 'the plan comment to show the deployment',
    });
    expect(repo.comments(opened.number)).toHaveLength(1);
    await checkRun(APPROVALS_CHECK, head, (run) => run.status === 'in_progress');

    // 3. An approval of the earlier commit, whose files differ, does not count; approvals of the head
    // by an owner and an SRE do.
    await deliver(repo.review(opened.number, { user: OWNER, commitId: broken }).event);
    const stale = await checkRun(APPROVALS_CHECK, head, (run) =>
      (run.output.summary ?? '').includes('files changed since'),
    );
    expect(stale.status).toBe('in_progress');
    await deliver(repo.review(opened.number, { user: OWNER }).event);
    await deliver(repo.review(opened.number, { user: SRE }).event);
    const approved = await checkRun(APPROVALS_CHECK, head, (run) => run.status === 'completed');
    expect(approved.conclusion).toBe('success');

    // 4. The merge: the record is a git note on the merge commit, and a check on it.
    const merged = repo.merge(opened.number, { by: OWNER });
    await deliver(merged.event);
    const note = await waitFor(() => repo.note(DEFAULT_NOTES_REF, merged.sha), {
      description: `a note under ${DEFAULT_NOTES_REF} on the merge commit`,
    });
    const record = JSON.parse(note) as ApprovalRecord;
    expect(record).toMatchObject({
      pr: opened.number,
      mergeCommit: merged.sha,
      headSha: head,
      satisfied: true,
    });
    expect(
      record.rules.find((r) => r.rule === 'prod-releases')?.satisfiedBy.map((a) => [a.login, a.approvedSha]),
    ).toEqual([
      [OWNER, head],
      [SRE, head],
    ]);
    await checkRun(APPROVAL_RECORD_CHECK, merged.sha, (run) => run.conclusion === 'success');

    // The app authenticated as GitHub Apps do: a JWT for an installation token, then the token.
    expect(
      github.requests
        .filter((r) => r.operationId === 'apps/create-installation-access-token')
        .map((r) => r.status),
    ).toEqual([201]);
    github.assertNoViolations();
  }, 300_000);
});
