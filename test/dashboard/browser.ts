import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** Screenshots land here (git-ignored): what the page looked like at each step. */
export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'dashboard');

/**
 * The machine is shared and loaded: wait on page conditions, generously, never on the clock. The
 * page's Content-Security-Policy forbids eval, so conditions are selectors, not functions.
 */
export const PAGE_TIMEOUT = 30_000;

/**
 * A test waits on several page conditions in turn, each up to PAGE_TIMEOUT: its own deadline leaves
 * room for a few of them on a loaded machine (two browser test files run at once).
 */
export const BROWSER_TEST_TIMEOUT = 240_000;

/** Debian's Chromium, headless, in a fresh profile, with nothing of its own reaching the network. */
export async function launchChromium(): Promise<{ context: BrowserContext; profile: string }> {
  const profile = await mkdtemp(join(tmpdir(), 'cairn-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { context, profile };
}
