import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/program.js';
import { findFreePorts } from '../../local/index.js';
import { createAppCredentials, GitHubEmulator, interceptGitHub } from '../github-emulator/index.js';
import { waitFor } from '../harness/index.js';
import { spawnCairn } from '../support/cairn-process.js';
import { runCliCaptured } from '../support/run-cli.js';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('cairn bot', () => {
  it('serves the GitHub App: refuses a forged delivery, accepts a signed one, health and metrics, stops on SIGTERM', async () => {
    const credentials = createAppCredentials();
    const [port] = await findFreePorts(1);
    const child = spawnCairn(['bot'], {
      APP_ID: String(credentials.appId),
      PRIVATE_KEY: credentials.privateKey,
      WEBHOOK_SECRET: credentials.webhookSecret,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}/api/github/webhooks`;
    const deliver = (signature: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'ping',
          'x-github-delivery': `d-${signature.length}`,
          'x-hub-signature-256': signature,
        },
        body: '{"zen":"Keep it logically awesome."}',
      });
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/ping`).catch(() => undefined))?.ok, {
        description: 'the app listens',
        timeoutMs: 30_000,
      });
      expect((await deliver('sha256=forged')).status).toBe(400);
      // Refused from its headers: the 20 MB are never held.
      const oversized = await fetch(url, {
        method: 'POST',
        headers: { 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=0' },
        body: Buffer.alloc(20 * 1024 * 1024, 0x20),
      });
      expect(oversized.status).toBe(413);
      const signature = `sha256=${createHmac('sha256', credentials.webhookSecret).update('{"zen":"Keep it logically awesome."}').digest('hex')}`;
      expect((await deliver(signature)).status).toBe(200);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', lastDeliveryAt: expect.any(String) });
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain(
        'cairn_bot_webhook_deliveries_total{event="ping",action="",outcome="ignored"} 1',
      );
      expect(metrics).toContain('process_resident_memory_bytes');
      expect(metrics).toContain('cairn_bot_webhook_refused_total{reason="too_large"} 1');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('follows ZooKeeper for the applied checks and deployments once CAIRN_ZK and CAIRN_REPOSITORY are set, and stops at once even while ZooKeeper is unreachable', async () => {
    const credentials = createAppCredentials();
    const [port, zkPort] = await findFreePorts(2);
    const child = spawnCairn(['bot'], {
      APP_ID: String(credentials.appId),
      PRIVATE_KEY: credentials.privateKey,
      WEBHOOK_SECRET: credentials.webhookSecret,
      PORT: String(port),
      HOST: '127.0.0.1',
      CAIRN_LOG_LEVEL: 'info',
      CAIRN_LOG_FORMAT: 'json',
      CAIRN_ZK: `127.0.0.1:${zkPort}`,
      CAIRN_REPOSITORY: 'northwind/platform-config',
    });
    // Logs go to stderr, like every command's.
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const line = await waitFor(
        () => stderr.split('\n').find((l) => l.includes('following ZooKeeper to post the')),
        { description: 'the bot to say it follows ZooKeeper', timeoutMs: 30_000 },
      );
      expect(JSON.parse(line)).toMatchObject({
        repository: 'northwind/platform-config',
        zk: `127.0.0.1:${zkPort}`,
        root: '/cairn',
        deadlineMs: 30 * 60_000,
      });
      await waitFor(() => stderr.includes('mirroring deployments as GitHub Deployments'), {
        description: 'the bot to say it mirrors deployments',
        timeoutMs: 30_000,
      });
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it("exits 2 when only half of the applied checks' settings are there, naming what is missing", async () => {
    const { code, stderr } = await runCliCaptured(['bot'], {
      APP_ID: '424242',
      PRIVATE_KEY: createAppCredentials().privateKey,
      WEBHOOK_SECRET: 'a-long-random-secret',
      CAIRN_ZK: '127.0.0.1:2181',
    });
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(
      'cairn: CAIRN_ZK is set but CAIRN_REPOSITORY is not: set it to the config repository the syncer mirrors, as owner/name',
    );
  });

  it('exits 2 on a private key that is none, naming the variable and what a key looks like', async () => {
    const [port] = await findFreePorts(1);
    const { code, stdout, stderr } = await runCliCaptured(['bot'], {
      APP_ID: '424242',
      PRIVATE_KEY: 'garbage',
      WEBHOOK_SECRET: 'a-long-random-secret',
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^cairn: PRIVATE_KEY is not a private key: a valid key is the \.pem file GitHub generated/,
    );
    expect(stderr).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    // It never fell back to a registration page.
    await expect(fetch(`http://127.0.0.1:${port}/register`)).rejects.toThrow();
  });

  describe('started where there is no app.yml', () => {
    let dir: string;
    let github: GitHubEmulator;
    let release: () => void;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'cairn-bot-home-'));
      github = new GitHubEmulator(createAppCredentials());
      nock.disableNetConnect();
      nock.enableNetConnect('127.0.0.1');
      release = interceptGitHub(github);
    });

    afterEach(() => {
      release();
      nock.enableNetConnect();
      rmSync(dir, { recursive: true, force: true });
      github.assertNoViolations();
    });

    /** `cairn bot` in-process in `dir`, until `stop()`. */
    function startCairnBot(env: NodeJS.ProcessEnv) {
      let stop = () => {};
      const stopped = new Promise<void>((resolve) => {
        stop = resolve;
      });
      let stderr = '';
      const exited = runCli(
        ['bot'],
        {
          stdout: () => {},
          stderr: (text) => {
            stderr += text;
          },
          cwd: dir,
          env: { HOST: '127.0.0.1', CAIRN_LOG_LEVEL: 'warn', LOG_LEVEL: 'warn', ...env },
        },
        { stopSignal: () => stopped },
      );
      return { exited, stop, stderr: () => stderr };
    }

    it('registers the app from the packaged manifest, then serves it after a restart', async () => {
      expect(existsSync(join(dir, 'app.yml'))).toBe(false);
      const [port] = await findFreePorts(1);
      const base = `http://127.0.0.1:${port}`;
      const registering = startCairnBot({ PORT: String(port), GH_ORG: 'northwind' });
      await waitFor(async () => (await fetch(`${base}/ping`).catch(() => undefined))?.ok, {
        description: 'the registration page',
        timeoutMs: 30_000,
      });
      const page = await (await fetch(`${base}/register`)).text();
      const manifest = JSON.parse(
        (/name="manifest" value="([^"]+)"/.exec(page)?.[1] ?? '')
          .replaceAll('&quot;', '"')
          .replaceAll('&amp;', '&'),
      ) as { default_permissions: Record<string, string>; default_events: string[] };
      expect(manifest.default_permissions).toMatchObject({ checks: 'write', pull_requests: 'write' });
      expect(manifest.default_events).toContain('pull_request_review');
      const state = /state=([0-9a-f]+)/.exec(page)?.[1];
      const code = github.acceptAppManifest(JSON.stringify(manifest), { owner: 'northwind' });
      const back = await fetch(`${base}/register/done?code=${code}&state=${state}`, { redirect: 'manual' });
      expect(back.headers.get('location')).toBe('https://github.com/apps/cairn/installations/new');
      registering.stop();
      expect(await registering.exited).toBe(0);

      // The credentials are in dir/.env now: the same command runs the app.
      const serving = startCairnBot({ PORT: String(port) });
      await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200, {
        description: 'the app',
        timeoutMs: 30_000,
      });
      const body = '{"zen":"Design for failure."}';
      const delivery = await fetch(`${base}/api/github/webhooks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'ping',
          'x-github-delivery': 'd-1',
          'x-hub-signature-256': `sha256=${createHmac('sha256', github.credentials.webhookSecret).update(body).digest('hex')}`,
        },
        body,
      });
      expect(delivery.status).toBe(200);
      serving.stop();
      expect(await serving.exited).toBe(0);
      expect(serving.stderr()).toBe('');
    });
  });

  it('ships bot/app.yml and bot/.env.example in the npm package', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: PROJECT_ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [pack] = JSON.parse(stdout) as { files: { path: string }[] }[];
    const files = pack?.files.map((f) => f.path) ?? [];
    expect(files).toEqual(expect.arrayContaining(['bot/app.yml', 'bot/.env.example']));
  });
});
