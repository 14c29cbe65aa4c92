import { ProbotOctokit } from 'probot';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, INSTALLATION_ID, PEOPLE, type TestApp } from '../test/bot-e2e/test-app.js';
import { deliverWebhook, signWebhook } from '../test/github-emulator/index.js';
import { waitFor } from '../test/harness/index.js';
import { GitHubError } from './errors.js';
import { GitHub } from './github.js';
import { VALIDATE_CHECK } from './names.js';

let app: TestApp;

afterEach(async () => {
  await app.close();
  app.github.assertNoViolations();
});

describe('webhook deliveries over HTTP', () => {
  async function served() {
    app = await createTestApp({ serve: true });
    app.repo.commit('change', { 'README.md': '# Platform configuration\n' }, 'Docs');
    const { event } = app.repo.openPullRequest({ head: 'change', author: PEOPLE.author });
    return { event, url: app.webhookUrl as string, secret: app.credentials.webhookSecret };
  }

  it('handles a delivery signed with the webhook secret', async () => {
    const { event, url, secret } = await served();
    const delivery = await deliverWebhook(event, { url, secret });
    expect(delivery.status).toBeLessThan(300);
    const head = app.repo.ref('change') as string;
    await waitFor(() => app.repo.latestCheckRun(VALIDATE_CHECK, head)?.conclusion === 'success', {
      description: 'a successful validate check on the head',
    });
  });

  it('rejects a forged signature with a 4xx and calls GitHub not at all', async () => {
    const { event, url, secret } = await served();
    const forged = signWebhook(JSON.stringify(event.payload), `${secret}-guessed`);
    const delivery = await deliverWebhook(event, { url, secret, signature: forged });
    expect(delivery.status).toBe(400);
    expect(delivery.body).toContain('signature does not match');
    expect(app.github.requests).toEqual([]);
  });

  it('rejects a signature over a different body', async () => {
    const { event, url, secret } = await served();
    const signature = signWebhook(JSON.stringify({ ...event.payload, action: 'closed' }), secret);
    const delivery = await deliverWebhook(event, { url, secret, signature });
    expect(delivery.status).toBe(400);
    expect(app.github.requests).toEqual([]);
  });

  it('rejects a delivery without a signature', async () => {
    const { event, url, secret } = await served();
    const delivery = await deliverWebhook(event, { url, secret, signature: null });
    expect(delivery.status).toBe(400);
    expect(delivery.body).toContain('x-hub-signature-256');
    expect(app.github.requests).toEqual([]);
  });

  it('acknowledges events it does not handle, and does nothing', async () => {
    const { url, secret } = await served();
    for (const event of [
      app.repo.event('issues', 'opened', PEOPLE.author),
      app.repo.event('star', 'created', PEOPLE.outsider),
      app.repo.event('pull_request', 'labeled', PEOPLE.author),
    ]) {
      expect((await deliverWebhook(event, { url, secret })).status).toBe(200);
    }
    expect(app.github.requests).toEqual([]);
  });
});

describe('GitHub failures', () => {
  /** The facade over an installation client configured as in production: retries and throttling on. */
  async function productionClient(): Promise<GitHub> {
    app = await createTestApp({
      // Production's plugins, with retry waits shortened from seconds to milliseconds.
      octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({
        ...options,
        retry: { retryAfterBaseValue: 1 },
      })),
    });
    const octokit = await app.probot.auth(INSTALLATION_ID);
    return new GitHub(octokit, { owner: 'northwind', repo: 'platform-config' });
  }

  it('retries a 5xx answer (Octokit retry plugin)', async () => {
    const github = await productionClient();
    app.github.failNext({ path: /\/git\/trees\//, status: 502 });
    const listing = await github.getTree('main', true);
    expect(listing.entries.length).toBeGreaterThan(40);
    expect(app.github.requestsTo('GET', /\/git\/trees\//).map((r) => r.status)).toEqual([502, 200]);
  });

  it('waits out an exhausted rate limit, then retries (throttling plugin)', async () => {
    const github = await productionClient();
    app.github.failNext({
      path: /\/git\/trees\//,
      status: 403,
      headers: {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) - 5),
      },
      body: {
        message: 'API rate limit exceeded for installation ID 4242.',
        documentation_url: 'https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting',
        status: '403',
      },
    });
    await github.getTree('main', true);
    expect(app.github.requestsTo('GET', /\/git\/trees\//).map((r) => r.status)).toEqual([403, 200]);
  });

  it('reports a failure that outlasts the retries as a typed error that says what to do', async () => {
    const github = await productionClient();
    app.github.failNext({ path: /\/git\/trees\//, status: 503, times: 10 });
    const error = await github.getTree('main', true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GitHubError);
    expect(error).toMatchObject({ code: 'GITHUB_UNAVAILABLE', httpStatus: 503, operation: 'github.getTree' });
    expect((error as Error).message).toContain('Re-run');
  });

  it('names the permission the app lacks', async () => {
    const github = await productionClient();
    app.github.failNext({
      path: /\/check-runs$/,
      status: 403,
      body: {
        message: 'Resource not accessible by integration',
        documentation_url: 'https://docs.github.com/rest',
        status: '403',
      },
    });
    const error = await github
      .createCheckRun({
        name: VALIDATE_CHECK,
        headSha: app.repo.ref('main') as string,
        externalId: 'x',
        output: { title: 't', summary: 's' },
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'GITHUB_FORBIDDEN', httpStatus: 403 });
    expect((error as Error).message).toContain('"checks: write" permission');
  });
});
