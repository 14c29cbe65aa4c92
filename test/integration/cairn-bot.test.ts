import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findFreePorts } from '../../local/index.js';
import { createAppCredentials } from '../github-emulator/index.js';
import { waitFor } from '../harness/index.js';
import { spawnCairn } from '../support/cairn-process.js';
import { runCliCaptured } from '../support/run-cli.js';

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
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
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
});
