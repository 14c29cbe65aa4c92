import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, PEOPLE, type TestApp } from '../test/bot-e2e/test-app.js';
import { deliverWebhook } from '../test/github-emulator/index.js';

/*
 * GET /healthz and GET /metrics, served beside the webhook path by the server Probot runs the app in
 * (here Probot's Node middleware on a loopback port, as in production).
 */

let app: TestApp;

afterEach(async () => {
  await app.close();
  app.github.assertNoViolations();
});

async function served() {
  app = await createTestApp({ serve: true });
  const url = app.webhookUrl as string;
  const origin = new URL(url).origin;
  return {
    deliver: (event: Parameters<typeof deliverWebhook>[0]) =>
      deliverWebhook(event, { url, secret: app.credentials.webhookSecret }),
    get: (path: string) => fetch(`${origin}${path}`),
  };
}

/** The value of one series in Prometheus's text format, or undefined when it is not there. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /healthz', () => {
  it('answers 200 while the app serves, with when the last delivery came', async () => {
    const { deliver, get } = await served();
    const before = await get('/healthz');
    expect(before.status).toBe(200);
    expect(before.headers.get('content-type')).toBe('application/json');
    expect(await before.json()).toEqual({
      status: 'ok',
      startedAt: expect.any(String),
      lastDeliveryAt: null,
    });

    await deliver(app.repo.event('star', 'created', PEOPLE.outsider));
    const after = (await (await get('/healthz')).json()) as { lastDeliveryAt: string };
    expect(Date.parse(after.lastDeliveryAt)).not.toBeNaN();
    expect(app.github.requests).toEqual([]);
  });
});

describe('GET /metrics', () => {
  it('counts deliveries by event, action and outcome, and check runs by conclusion', async () => {
    const { deliver, get } = await served();
    app.repo.commit('docs', { 'README.md': '# Platform configuration\n' }, 'Docs');
    const opened = app.repo.openPullRequest({ head: 'docs', author: PEOPLE.author });
    expect((await deliver(opened.event)).status).toBe(200);
    await deliver(app.repo.event('issues', 'opened', PEOPLE.author));
    await deliver(app.repo.event('pull_request', 'labeled', PEOPLE.author));

    // GitHub fails for the next push: every concern of that delivery fails, and it is answered 500.
    app.github.failNext({ path: /\/pulls\/\d+$/, status: 500, times: 2 });
    app.github.failNext({ path: /\/git\/trees\//, status: 500, times: 10 });
    const pushed = app.repo.push(opened.number, { 'README.md': '# Configuration\n' });
    expect((await deliver(pushed.event)).status).toBe(500);

    const response = await get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const deliveries = (event: string, action: string, outcome: string) =>
      sample(
        text,
        `cairn_bot_webhook_deliveries_total{event="${event}",action="${action}",outcome="${outcome}"}`,
      );
    expect(deliveries('pull_request', 'opened', 'handled')).toBe(1);
    expect(deliveries('pull_request', 'synchronize', 'failed')).toBe(1);
    expect(deliveries('issues', 'opened', 'ignored')).toBe(1);
    expect(deliveries('pull_request', 'labeled', 'ignored')).toBe(1);
    const checkRuns = (check: string, conclusion: string) =>
      sample(text, `cairn_bot_check_runs_completed_total{check="${check}",conclusion="${conclusion}"}`);
    // The opened pull request: valid, and nothing in it needs approval. The push: validation failed.
    expect(checkRuns('cairn / validate', 'success')).toBe(1);
    expect(checkRuns('cairn / approvals', 'success')).toBe(1);
    expect(checkRuns('cairn / validate', 'failure')).toBe(1);
    // Process metrics, under Prometheus's usual names.
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    // No label holds a commit, a pull request number or a login: series do not grow with use.
    const labelValues = text
      .split('\n')
      .filter((line) => line.startsWith('cairn_bot_'))
      .flatMap((line) => [...line.matchAll(/="([^"]*)"/g)].map((match) => match[1]));
    expect(new Set(labelValues)).toEqual(
      new Set([
        ...['pull_request', 'issues', 'opened', 'labeled', 'synchronize', 'handled', 'ignored', 'failed'],
        ...['cairn / validate', 'cairn / approvals', 'success', 'failure'],
      ]),
    );
  });

  it('leaves other paths to the next handler', async () => {
    const { get } = await served();
    expect((await get('/metrics/extra')).status).toBe(404);
    expect(
      (await fetch(`${new URL(app.webhookUrl as string).origin}/healthz`, { method: 'POST' })).status,
    ).toBe(404);
  });
});
