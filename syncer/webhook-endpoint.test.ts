import { createHmac } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LogThrottle } from '../core/index.js';
import type { PushDelivery, WebhookRefusalReason } from './webhook.js';
import { WebhookEndpoint, type WebhookEndpointOptions } from './webhook-endpoint.js';

const SECRET = 'endpoint-secret';
const MB = 1024 * 1024;

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

/** Posts `body` (or, with `stall`, its first part only, the request left open) and resolves with the answer. */
function post(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
  options: { chunked?: boolean; stall?: boolean } = {},
): { answer: Promise<Answer>; finish: () => void } {
  // Its own connection, closed after the answer (`Connection: close`), as a webhook sender's is.
  const request = httpRequest(url, {
    agent: false,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(options.chunked ? {} : { 'content-length': body.length }),
      ...headers,
    },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
  if (options.stall) request.write(body.subarray(0, 10));
  else request.end(body);
  return { answer, finish: () => request.end(body.subarray(10)) };
}

const sign = (body: Buffer, secret = SECRET) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const pushBody = Buffer.from(JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40) }));
const signedHeaders = (body: Buffer) => ({ 'x-github-event': 'push', 'x-hub-signature-256': sign(body) });

describe('POST /webhook', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  const serve = async (options: Partial<WebhookEndpointOptions> = {}) => {
    const refused: WebhookRefusalReason[] = [];
    const delivered: (PushDelivery | undefined)[] = [];
    const warnings: { code: string; suppressed: number; msg: string }[] = [];
    const endpoint = new WebhookEndpoint({
      secret: SECRET,
      logger: pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line)) }),
      onRefused: (reason) => refused.push(reason),
      onDelivery: (push) => {
        delivered.push(push);
        return { status: 202, body: { queued: true } };
      },
      ...options,
    });
    server = createServer((request, response) => void endpoint.handle(request, response));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
    return { url, refused, delivered, warnings };
  };

  it('accepts a signed push and hands it over', async () => {
    const { url, delivered, refused } = await serve();
    expect(await post(url, signedHeaders(pushBody), pushBody).answer).toEqual({
      status: 202,
      body: { queued: true },
    });
    expect(delivered).toEqual([{ id: '', ref: 'refs/heads/main', after: 'a'.repeat(40) }]);
    expect(refused).toEqual([]);
  });

  it('answers an unsigned 20 MB body with 401 before reading it, and the sender sees the answer', async () => {
    const { url, refused, delivered } = await serve();
    const answer = await post(url, { 'x-github-event': 'push' }, Buffer.alloc(20 * MB, 'x')).answer;
    expect(answer).toEqual({
      status: 401,
      body: { error: 'missing X-Hub-Signature-256: sign deliveries with the webhook secret' },
    });
    expect(refused).toEqual(['unsigned']);
    expect(delivered).toEqual([]);
  });

  it('refuses a delivery without X-GitHub-Event with 400', async () => {
    const { url, refused } = await serve();
    const answer = await post(url, { 'x-hub-signature-256': sign(pushBody) }, pushBody).answer;
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ error: expect.stringContaining('missing X-GitHub-Event') });
    expect(refused).toEqual(['no_event']);
  });

  it('answers 413 to a signed 20 MB body, declared or sent in chunks, with a short message', async () => {
    const { url, refused, delivered } = await serve();
    const big = Buffer.alloc(20 * MB, ' ');
    const declared = await post(url, signedHeaders(big), big).answer;
    expect(declared).toEqual({
      status: 413,
      body: { error: expect.stringMatching(/^payload over 5242880 bytes: .*next poll/) },
    });
    const chunked = await post(url, signedHeaders(big), big, { chunked: true }).answer;
    expect(chunked.status).toBe(413);
    expect(refused).toEqual(['too_large', 'too_large']);
    expect(delivered).toEqual([]);
    // The connection was drained, not reset: the endpoint still serves.
    expect((await post(url, signedHeaders(pushBody), pushBody).answer).status).toBe(202);
  });

  it('refuses a forged signature and a signed body that is not a push payload', async () => {
    const { url, refused } = await serve();
    const forged = await post(
      url,
      { 'x-github-event': 'push', 'x-hub-signature-256': sign(pushBody, 'guess') },
      pushBody,
    ).answer;
    expect(forged.status).toBe(401);
    const notJson = Buffer.from('payload=%7B%7D');
    expect((await post(url, signedHeaders(notJson), notJson).answer).status).toBe(400);
    expect(refused).toEqual(['bad_signature', 'bad_payload']);
  });

  it('reads a bounded number of bodies at once and answers 503 to more', async () => {
    const { url, refused, delivered } = await serve({ limits: { maxConcurrentReads: 2 } });
    const first = post(url, signedHeaders(pushBody), pushBody, { stall: true });
    const second = post(url, signedHeaders(pushBody), pushBody, { stall: true });
    // Stalled bodies hold their places until they end; wait until both are being read.
    const deadline = Date.now() + 20_000;
    let third: Answer;
    for (;;) {
      third = await post(url, signedHeaders(pushBody), pushBody).answer;
      if (third.status === 503 || Date.now() > deadline) break;
    }
    expect(third).toEqual({
      status: 503,
      body: { error: expect.stringContaining('2 deliveries are being read already') },
    });
    expect(refused.every((reason) => reason === 'busy')).toBe(true);
    first.finish();
    second.finish();
    expect((await first.answer).status).toBe(202);
    expect((await second.answer).status).toBe(202);
    // Once they are read, another delivery is read again.
    expect((await post(url, signedHeaders(pushBody), pushBody).answer).status).toBe(202);
    expect(delivered.length).toBeGreaterThanOrEqual(3);
  });

  it('answers 408 to a body that does not arrive in time', async () => {
    const { url, refused } = await serve({ limits: { bodyTimeoutMs: 200 } });
    const slow = post(url, signedHeaders(pushBody), pushBody, { stall: true });
    expect(await slow.answer).toEqual({
      status: 408,
      body: { error: 'the body did not arrive within 200 ms' },
    });
    expect(refused).toEqual(['slow']);
  });

  it('logs one warning per reason per minute, then says how many it left out', async () => {
    let now = 0;
    const { url, refused, warnings } = await serve({ throttle: new LogThrottle({ now: () => now }) });
    for (let i = 0; i < 10; i++) await post(url, { 'x-github-event': 'push' }, pushBody).answer;
    await post(url, { 'x-hub-signature-256': sign(pushBody) }, pushBody).answer;
    expect(refused).toHaveLength(11);
    expect(warnings.map((w) => [w.code, w.suppressed])).toEqual([
      ['unsigned', 0],
      ['no_event', 0],
    ]);
    now = 60_000;
    await post(url, { 'x-github-event': 'push' }, pushBody).answer;
    expect(warnings.map((w) => [w.code, w.suppressed])).toEqual([
      ['unsigned', 0],
      ['no_event', 0],
      ['unsigned', 9],
    ]);
    expect(warnings[2]?.msg).toContain('9 more for the same reason in the last minute');
  });
});
