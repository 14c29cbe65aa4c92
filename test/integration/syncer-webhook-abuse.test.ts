import type { ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePorts } from '../../local/index.js';
import { waitFor } from '../harness/index.js';
import { spawnCairn } from '../support/cairn-process.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';

const SECRET = 'abuse-test-secret';
const MB = 1024 * 1024;

/** Posts `body` with `headers` over its own connection; resolves with the status once the answer is read. */
function post(url: string, headers: Record<string, string>, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers },
      agent: false,
    });
    request.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('the syncer daemon under webhook abuse', () => {
  let f: SyncerFixture;
  let daemon: ChildProcess;
  let base: string;
  let stderr = '';
  let secretDir: string;
  beforeAll(async () => {
    f = await startSyncerFixture();
    secretDir = await mkdtemp(join(tmpdir(), 'cairn-webhook-secret-'));
    await writeFile(join(secretDir, 'webhook-secret'), `${SECRET}\n`, { mode: 0o600 });
    const [port] = await findFreePorts(1);
    base = `http://127.0.0.1:${port}`;
    daemon = spawnCairn(
      [
        'sync',
        '--watch',
        '--repo',
        f.repoUrl,
        '--zk',
        f.zk.connectString,
        '--cache-dir',
        f.cacheDir,
        '--poll',
        '1h',
        '--listen',
        `127.0.0.1:${port}`,
        '--webhook-secret-file',
        join(secretDir, 'webhook-secret'),
      ],
      { CAIRN_LOG_FORMAT: 'json' },
    );
    daemon.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await waitFor(async () => (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200, {
      description: 'the daemon serving and caught up',
      timeoutMs: 60_000,
    });
  }, 90_000);
  afterAll(async () => {
    daemon?.kill('SIGKILL');
    await f?.close();
    await rm(secretDir, { recursive: true, force: true });
  });

  const metrics = async () => (await fetch(`${base}/metrics`)).text();
  const metric = (text: string, name: string) =>
    Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);

  it('refuses 16 concurrent unsigned 20 MB bodies without reading them, and a signed 20 MB body with 413', async () => {
    const before = metric(await metrics(), 'process_resident_memory_bytes');
    const body = Buffer.alloc(20 * MB, 'x');
    const unsigned = await Promise.all(
      Array.from({ length: 16 }, () => post(`${base}/webhook`, { 'x-github-event': 'push' }, body)),
    );
    expect(unsigned).toEqual(Array.from({ length: 16 }, () => 401));
    const after = metric(await metrics(), 'process_resident_memory_bytes');
    // Reading the 320 MB would have taken hundreds of MB (it did: 120 MB to 381 MB); discarding them
    // as they arrive costs a few buffers (about 30 MB of garbage not yet collected, at a load of 25).
    expect(after - before).toBeLessThan(96 * MB);

    const signed = await post(
      `${base}/webhook`,
      {
        'x-github-event': 'push',
        'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`,
      },
      body,
    );
    expect(signed).toBe(413);

    const text = await metrics();
    expect(metric(text, 'cairn_syncer_webhook_refused_total{reason="unsigned"}')).toBe(16);
    expect(metric(text, 'cairn_syncer_webhook_refused_total{reason="too_large"}')).toBe(1);
    // One warning per reason, however many were refused.
    const refusals = stderr
      .split('\n')
      .filter((line) => line.includes('webhook refused'))
      .map((line) => JSON.parse(line) as { code: string });
    expect(refusals.map((r) => r.code)).toEqual(['unsigned', 'too_large']);
    expect(stderr).not.toContain(SECRET);
    // The secret is the file's, without its newline.
    const push = Buffer.from(JSON.stringify({ ref: 'refs/heads/elsewhere', after: 'a'.repeat(40) }));
    const signature = (secret: string) => `sha256=${createHmac('sha256', secret).update(push).digest('hex')}`;
    expect(
      await post(
        `${base}/webhook`,
        { 'x-github-event': 'push', 'x-hub-signature-256': signature(SECRET) },
        push,
      ),
    ).toBe(202);
    expect(
      await post(
        `${base}/webhook`,
        { 'x-github-event': 'push', 'x-hub-signature-256': signature(`${SECRET}\n`) },
        push,
      ),
    ).toBe(401);
    expect(metric(await metrics(), 'cairn_syncer_webhook_refused_total{reason="bad_signature"}')).toBe(1);
    // Still serving, and still healthy.
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  }, 120_000);
});
