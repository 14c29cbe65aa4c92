import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import nock from 'nock';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findFreePorts } from '../../local/index.js';
import { createAppCredentials, GitHubEmulator, interceptGitHub } from '../../test/github-emulator/index.js';
import { readAppCredentials } from '../credentials.js';
import { readAppManifest } from './app-manifest.js';
import { type RegistrationServer, startRegistration } from './registration-server.js';

/*
 * The registration page as a browser meets it, and the way back from GitHub: the code GitHub hands
 * out is exchanged with the GitHub emulator (through nock), which checks the call against GitHub's
 * OpenAPI description.
 */

const MANIFEST_PATH = new URL('../app.yml', import.meta.url).pathname;
const manifest = readAppManifest(MANIFEST_PATH);

let dir: string;
let github: GitHubEmulator;
let release: () => void;
let registration: RegistrationServer | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cairn-registration-'));
  github = new GitHubEmulator(createAppCredentials());
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  release = interceptGitHub(github);
});

afterEach(async () => {
  await registration?.close();
  registration = undefined;
  release();
  nock.enableNetConnect();
  rmSync(dir, { recursive: true, force: true });
  github.assertNoViolations();
});

async function start(env: Record<string, string> = {}) {
  const [port] = await findFreePorts(1);
  registration = await startRegistration({
    manifest,
    manifestPath: MANIFEST_PATH,
    env: { HOST: '127.0.0.1', PORT: String(port), GH_ORG: 'northwind', ...env },
    envFile: join(dir, '.env'),
    log: pino({ level: 'silent' }),
  });
  return `http://127.0.0.1:${port}`;
}

/** What the page's form posts to GitHub: where, and the manifest. */
async function registrationForm(base: string) {
  const page = await (await fetch(`${base}/register`)).text();
  const action = unescapeHtml(/<form action="([^"]+)"/.exec(page)?.[1] ?? '');
  const posted = unescapeHtml(/name="manifest" value="([^"]+)"/.exec(page)?.[1] ?? '');
  return { page, action: new URL(action), manifest: JSON.parse(posted) as Record<string, unknown> };
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_, name: string) =>
    name === 'amp' ? '&' : name === 'lt' ? '<' : name === 'gt' ? '>' : name === 'quot' ? '"' : "'",
  );
}

describe('the registration page', () => {
  it('registers the app as bot/app.yml describes it, to the organisation, pointed back at this bot', async () => {
    const base = await start();
    expect((await fetch(base, { redirect: 'manual' })).headers.get('location')).toBe('/register');
    const form = await registrationForm(base);

    expect(`${form.action.origin}${form.action.pathname}`).toBe(
      'https://github.com/organizations/northwind/settings/apps/new',
    );
    expect(form.action.searchParams.get('state')).toMatch(/^[0-9a-f]{32}$/);
    expect(form.manifest).toMatchObject({
      name: 'Cairn',
      default_events: ['pull_request', 'pull_request_review', 'check_run', 'issue_comment'],
      default_permissions: {
        metadata: 'read',
        checks: 'write',
        contents: 'write',
        pull_requests: 'write',
        members: 'read',
        deployments: 'write',
        issues: 'write',
      },
      hook_attributes: { url: `${base}/api/github/webhooks` },
      redirect_url: `${base}/register/done`,
      public: false,
    });
    expect(form.page).toContain('GitHub cannot reach this address');
  });

  it('sends webhooks to WEBHOOK_PROXY_URL when one is set', async () => {
    const base = await start({ WEBHOOK_PROXY_URL: 'https://smee.io/cairn-dev-channel' });
    const form = await registrationForm(base);
    expect(form.manifest.hook_attributes).toEqual({ url: 'https://smee.io/cairn-dev-channel' });
    expect(form.page).not.toContain('GitHub cannot reach');
  });

  it('completes the registration: the credentials go to .env, the browser to the installation', async () => {
    writeFileSync(join(dir, '.env'), '# The Cairn bot\nPORT=3000\n');
    const base = await start();
    const form = await registrationForm(base);
    const code = github.acceptAppManifest(JSON.stringify(form.manifest), { owner: 'northwind' });

    const back = await fetch(
      `${base}/register/done?code=${code}&state=${form.action.searchParams.get('state')}`,
      { redirect: 'manual' },
    );
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe('https://github.com/apps/cairn/installations/new');
    const env = parseEnv(readFileSync(join(dir, '.env'), 'utf8'));
    expect(env).toEqual({
      PORT: '3000',
      APP_ID: String(github.credentials.appId),
      PRIVATE_KEY: github.credentials.privateKey,
      WEBHOOK_SECRET: github.credentials.webhookSecret,
    });
    expect(readFileSync(join(dir, '.env'), 'utf8')).toMatch(/^# The Cairn bot\n/);
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o600);
    // What the next start reads is a complete, valid set of credentials.
    expect(readAppCredentials(env, dir)).toMatchObject({ appId: github.credentials.appId });
    expect(github.requestsTo('POST', /^\/app-manifests\/[0-9a-f]+\/conversions$/)).toHaveLength(1);
  });

  it('refuses a way back that did not start on its page, without calling GitHub', async () => {
    const base = await start();
    const form = await registrationForm(base);
    const code = github.acceptAppManifest(JSON.stringify(form.manifest));
    const forged = await fetch(`${base}/register/done?code=${code}&state=${'0'.repeat(32)}`);
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain('only completes a registration started on');
    expect(github.requests).toEqual([]);
  });

  it('says what to do when GitHub does not know the code (used, or over an hour old)', async () => {
    const base = await start();
    const form = await registrationForm(base);
    const state = form.action.searchParams.get('state');
    const code = github.acceptAppManifest(JSON.stringify(form.manifest));
    expect(
      (await fetch(`${base}/register/done?code=${code}&state=${state}`, { redirect: 'manual' })).status,
    ).toBe(302);
    const again = await fetch(`${base}/register/done?code=${code}&state=${state}`);
    expect(again.status).toBe(502);
    expect(await again.text()).toContain('open the registration page again and register anew');
  });
});
