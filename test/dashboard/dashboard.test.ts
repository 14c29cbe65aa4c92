import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dashboard, Overview } from '../../dashboard/index.js';
import type { SyncerDaemon } from '../../syncer/index.js';
import { waitFor } from '../harness/index.js';
import type { SyncerFixture } from '../support/syncer-fixture.js';
import { ARTIFACTS, BROWSER_TEST_TIMEOUT, launchChromium, PAGE_TIMEOUT } from './browser.js';
import { type DashboardStack, startDashboardStack } from './dashboard-stack.js';

describe('the dashboard in a real browser', { timeout: BROWSER_TEST_TIMEOUT }, () => {
  let f: SyncerFixture;
  let daemon: SyncerDaemon;
  let dashboard: Dashboard;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  let url: string;
  const pageErrors: string[] = [];

  let stack: DashboardStack;
  const commit = (files: Record<string, string>, message: string) => stack.commit(files, message);

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    stack = await startDashboardStack();
    ({ f, daemon, dashboard } = stack);
    url = stack.url;
    await daemon.syncNow();
    ({ context, profile } = await launchChromium());
    page = await context.newPage();
    page.setDefaultTimeout(PAGE_TIMEOUT);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await stack?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('shows the head commit, then a new commit as soon as it is mirrored, without reloading', async () => {
    await page.goto(url);
    const first = await f.work.head();
    await page.getByTestId('head-commit').filter({ hasText: first }).waitFor();
    await page.locator('body[data-stream="open"]').waitFor({ state: 'attached' });
    // Survives only if the page is never reloaded.
    await page.evaluate('window.notReloaded = true');

    const second = await commit(
      { 'services/recommender/config/rules/dashboard.yaml': 'seen: live\n' },
      'Add a rule the dashboard must show live',
    );
    await page.getByTestId('head-commit').filter({ hasText: second }).waitFor();
    await page
      .getByRole('table', { name: 'Mirrored commits' })
      .getByText(`git revert --no-edit ${second}`)
      .waitFor();
    expect(await page.evaluate('window.notReloaded')).toBe(true);

    // The commit's diff, and the added file's content.
    await page.getByRole('button', { name: 'Changes in #2' }).click();
    const devChanges = page.getByTestId('changes').getByRole('region', { name: 'recommender dev' });
    await devChanges.getByText('rules/dashboard.yaml').waitFor();
    await devChanges.getByRole('button', { name: 'after' }).click();
    await page.getByTestId('change-text').filter({ hasText: 'seen: live' }).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'new-commit.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('shows a value containing <script> as text, and runs none of it', async () => {
    const value = '<script>window.hacked = true</script><img src=x onerror="window.hacked = true">';
    await commit(
      { 'services/recommender/config/rules/banner.yaml': `banner: '${value}'\n` },
      `Add a banner ${value}`,
    );
    await page.getByTestId('head-message').filter({ hasText: '<script>' }).waitFor();
    await page.getByRole('button', { name: 'Files of recommender dev' }).click();
    await page.getByLabel('Filter the files of recommender dev').fill('banner');
    await page.getByRole('button', { name: 'Filter', exact: true }).click();
    await page.getByRole('button', { name: 'rules/banner.yaml' }).click();
    const text = page.getByTestId('file-text');
    await text.filter({ hasText: 'window.hacked' }).waitFor();
    expect(await text.textContent()).toBe(`banner: '${value}'\n`);
    expect(await page.evaluate('window.hacked')).toBeUndefined();
    // Only the page's own module: nothing shown became an element.
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('main img').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'script-as-text.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('can be used by keyboard: a file list opens with Enter and focus moves into it', async () => {
    await page.goto(url);
    await page.getByTestId('head-commit').waitFor();
    const button = page.getByRole('button', { name: 'Files of search-api prod' });
    await button.focus();
    await page.keyboard.press('Enter');
    await page.locator('#files-filter:focus').waitFor();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    // Past the filter's button, the first file: focus stays on it through any redraw meanwhile.
    await page.locator('[data-testid="file-list"] button:focus').waitFor();
    await page.keyboard.press('Enter');
    // The first file of the list, opened by keyboard; its content takes the focus.
    await page.locator('#file-content-title:focus').waitFor();
    expect(await page.getByTestId('file-text').textContent()).not.toBe('');

    // A live update redraws the page and leaves the focus where it was.
    await button.focus();
    const next = await commit(
      { 'services/recommender/config/rules/focus.yaml': 'focus: kept\n' },
      'Add a file while someone reads',
    );
    await page.getByTestId('head-commit').filter({ hasText: next }).waitFor();
    await page.locator('button[data-key="Files of search-api prod"]:focus').waitFor();
  });

  it('shows a modified file line by line, opened by keyboard, its markup as text', async () => {
    await commit(
      { 'services/recommender/config/rules/diffed.yaml': 'first: 1\nsecond: 2\nthird: 3\n' },
      'Add a file to change',
    );
    const markup = '<b>bold</b><script>window.hacked = true</script>';
    const changed = await commit(
      {
        'services/recommender/config/rules/diffed.yaml': `first: 1\nsecond: 20\nthird: 3\nnote: '${markup}'\n`,
      },
      'Change the file line by line',
    );
    await page.goto(url);
    await page.getByTestId('head-commit').filter({ hasText: changed }).waitFor();
    const overview = (await (await fetch(`${url}/api/overview`)).json()) as Overview;
    const seq = overview.status.head?.seq as number;

    // By keyboard: the commit's changes, then the file's line diff; each takes the focus.
    await page.getByRole('button', { name: `Changes in #${seq}` }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#changes-title:focus').waitFor();
    const dev = page.getByTestId('changes').getByRole('region', { name: 'recommender dev' });
    await dev.getByRole('button', { name: 'Line diff of rules/diffed.yaml' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('#change-content-title:focus').filter({ hasText: 'rules/diffed.yaml' }).waitFor();

    const diff = page.getByRole('table', { name: 'Line diff of rules/diffed.yaml' });
    // Drawn whole once the diff is read (a redraw of the page may come first).
    await diff.getByTestId('diff-removed').filter({ hasText: 'second: 2' }).waitFor();
    /** Each row of a kind as [line number before, line number after, the line]. */
    const rows = async (kind: string) => {
      const row = diff.getByTestId(`diff-${kind}`);
      const column = (n: number) => row.locator(`td:nth-child(${n})`).allTextContents();
      const [before, after, line] = await Promise.all([column(1), column(2), column(4)]);
      return line.map((text, i) => [before[i], after[i], text]);
    };
    expect(await rows('removed')).toEqual([['2', '', 'second: 2']]);
    expect(await rows('added')).toEqual([
      ['', '2', 'second: 20'],
      ['', '4', `note: '${markup}'`],
    ]);
    expect(await rows('context')).toEqual([
      ['1', '1', 'first: 1'],
      ['3', '3', 'third: 3'],
    ]);
    // Added and removed are said in words too, not by colour alone.
    expect(await diff.getByTestId('diff-added').first().locator('td:nth-child(3)').textContent()).toBe(
      '+added',
    );
    // Shown as text: nothing in it became an element or ran.
    expect(await diff.locator('b, script').count()).toBe(0);
    expect(await page.evaluate('window.hacked')).toBeUndefined();
    await page.screenshot({ path: join(ARTIFACTS, 'line-diff.png'), fullPage: true });

    const unknown = await fetch(`${url}/api/diff?from=nope&to=${'0'.repeat(40)}`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'nope is not a content id (40 hexadecimal digits)' });
    expect((await fetch(`${url}/api/diff?from=${'0'.repeat(40)}`)).status).toBe(400);
    expect(pageErrors).toEqual([]);
  });

  it('keeps one event stream per tab, closed while the tab is hidden and opened again when visible', async () => {
    await page.goto(url);
    await page.locator('body[data-stream="open"]').waitFor({ state: 'attached' });
    await waitFor(() => dashboard.openStreams === 1, {
      description: 'one stream for the one tab',
      timeoutMs: PAGE_TIMEOUT,
    });
    // Chromium's headless tabs are always visible: the page is told otherwise, as a browser would.
    const setVisibility = (state: 'hidden' | 'visible') =>
      page.evaluate(
        `Object.defineProperty(document, 'visibilityState', { value: '${state}', configurable: true });
         document.dispatchEvent(new Event('visibilitychange'));`,
      );
    await setVisibility('hidden');
    await waitFor(() => dashboard.openStreams === 0, {
      description: 'no stream while hidden',
      timeoutMs: PAGE_TIMEOUT,
    });
    const whileHidden = await commit(
      { 'services/recommender/config/rules/hidden.yaml': 'hidden: 1\n' },
      'Commit while the tab is hidden',
    );
    await setVisibility('visible');
    await waitFor(() => dashboard.openStreams === 1, {
      description: 'the stream again',
      timeoutMs: PAGE_TIMEOUT,
    });
    await page.getByTestId('head-commit').filter({ hasText: whileHidden }).waitFor();
  });

  it('answers bad requests with what is wrong, and refuses writes', async () => {
    const missing = await fetch(`${url}/api/files?service=recommender`);
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: 'missing query parameter env' });
    const unknown = await fetch(`${url}/api/file?service=recommender&env=dev&path=nope.yaml`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: 'recommender dev has no file nope.yaml' });
    const badLimit = await fetch(`${url}/api/history?limit=ten`);
    expect(badLimit.status).toBe(400);
    expect((await fetch(`${url}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});
