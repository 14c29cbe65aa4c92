import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecommender } from '../../sdk/examples/recommender-service.js';
import { type AgentProcess, DEMO_FILES, DEMO_SERVICE, startAgent } from '../agent/agent-fixture.js';
import { marker, releaseYaml, serviceYaml } from '../deploy/deploy-fixture.js';
import { quietLogger, type SyncerFixture } from '../support/syncer-fixture.js';
import { ARTIFACTS, BROWSER_TEST_TIMEOUT, launchChromium, PAGE_TIMEOUT } from './browser.js';
import { type DashboardStack, startDashboardStack } from './dashboard-stack.js';

const HOSTS = ['demo-01', 'demo-02'];
const DEPLOY_SERVICE = 'services/deploy-app/service.yaml';
const DEPLOY_RELEASE = 'services/deploy-app/releases/dev.yaml';

/** Two agents on their hosts, watched from the page: files applied, a rejection, a rollout. */
describe('the dashboard follows agents and a rollout', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let f: SyncerFixture;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  const agents = new Map<string, AgentProcess>();

  let stack: DashboardStack;
  const commit = (files: Record<string, string>, message: string) => stack.commit(files, message);

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    stack = await startDashboardStack();
    ({ f } = stack);
    await commit(
      {
        'services/demo-app/service.yaml': DEMO_SERVICE,
        ...DEMO_FILES(1),
        [DEPLOY_SERVICE]: serviceYaml(HOSTS),
        [DEPLOY_RELEASE]: releaseYaml('v1', { canary: { hosts: 1, bakeSeconds: 0 }, batchSize: 1 }),
      },
      'Add demo-app and deploy-app, released at v1',
    );
    await Promise.all(HOSTS.map(async (host) => agents.set(host, await startAgent(f, host))));
    ({ context, profile } = await launchChromium());
    page = await context.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT);
    await page.goto(stack.url);
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await Promise.all([...agents.values()].map((agent) => agent.close()));
    await stack?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  const hostRow = (host: string) => page.getByTestId(`host-${host}-demo-app-dev`);

  it('shows each host catch up with a new commit, and a rejected one with the check’s output', async () => {
    const second = await commit(DEMO_FILES(2), 'demo-app version 2');
    for (const host of HOSTS) {
      await hostRow(host)
        .filter({ hasText: 'applied' })
        .filter({ hasText: second.slice(0, 10) })
        .waitFor();
    }
    await commit(
      { 'services/demo-app/config/app.yaml': 'version: 3\nfail: true\n' },
      'demo-app version 3, refused by its check',
    );
    for (const host of HOSTS) {
      const row = hostRow(host).filter({ hasText: 'rejected' });
      await row.filter({ hasText: 'check exited 1' }).waitFor();
      // Still on the files it had: the commit before.
      await row.filter({ hasText: second.slice(0, 10) }).waitFor();
    }
    await page.screenshot({ path: join(ARTIFACTS, 'hosts.png'), fullPage: true });
  });

  it('shows the example SDK service’s instance and the hosts catch up with one commit, without reloading', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'cairn-dashboard-sdk-'));
    const service = await startRecommender({
      zk: f.zk.connectString,
      env: 'dev',
      port: 0,
      cacheDir: cache,
      logger: quietLogger,
    });
    try {
      const instance = page.getByTestId(
        `instance-recommender-dev-${basename(service.config.instancePath ?? '')}`,
      );
      // It serves the commit that last changed recommender's dev files.
      await instance.filter({ hasText: 'current' }).waitFor();
      // Survives only if the page is never reloaded.
      await page.evaluate('window.notReloaded = true');

      const overlay = await f.work.git('show', 'HEAD:services/recommender/config/@dev/application.yaml');
      const change = await commit(
        {
          'services/recommender/config/@dev/application.yaml': `${overlay}\nranking:\n  maxResults: 7\n`,
          ...DEMO_FILES(4),
        },
        'Fewer recommendations in dev, and demo-app version 4',
      );
      await instance
        .filter({ hasText: 'current' })
        .filter({ hasText: change.slice(0, 10) })
        .waitFor();
      for (const host of HOSTS)
        await hostRow(host)
          .filter({ hasText: 'applied' })
          .filter({ hasText: change.slice(0, 10) })
          .waitFor();
      expect(service.config.commit).toBe(change);
      expect(await page.evaluate('window.notReloaded')).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'instance-and-hosts.png'), fullPage: true });
    } finally {
      await service.close();
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('shows a rollout’s canary, batches and log tail as it goes', async () => {
    const canary = agents.get('demo-01') as AgentProcess;
    await marker(canary, 'gate-v2');
    await commit(
      { [DEPLOY_RELEASE]: releaseYaml('v2', { canary: { hosts: 1, bakeSeconds: 0 }, batchSize: 1 }) },
      'Release deploy-app v2',
    );
    await page.getByRole('button', { name: 'Details of deploy-app dev d-0000000002' }).click();
    // The canary waits on its gate: running, the batch not started.
    await page.getByTestId('task-demo-01').filter({ hasText: 'running' }).waitFor();
    await page.getByTestId('task-demo-02').filter({ hasText: 'not started' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'rollout-canary.png'), fullPage: true });

    await marker(canary, 'gate-v2', false);
    await page.getByTestId('task-demo-02').filter({ hasText: 'succeeded' }).waitFor();
    await page.locator('#deployment-title').filter({ hasText: 'succeeded' }).waitFor();
    await page.locator('#deployment pre').filter({ hasText: 'deployed' }).first().waitFor();
    expect(await page.locator('#deployment li').filter({ hasText: 'succeeded' }).count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'rollout-done.png'), fullPage: true });
  });
});
