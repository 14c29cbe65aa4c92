import { createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../test/harness/index.js';
import { type GuardRefusal, guardWebhooks } from './webhook-guard.js';

const PATH = '/api/github/webhooks';

/** A server whose own handler records what reached it and holds webhook answers until released. */
async function guardedServer(limits: { maxBodyBytes?: number; maxConcurrent?: number } = {}) {
  const reached: string[] = [];
  const held: ServerResponse[] = [];
  const refused: GuardRefusal[] = [];
  const server = createServer((request, response) => {
    reached.push(`${request.method} ${request.url}`);
    if (request.url === `${PATH}?hold`) {
      request.resume();
      held.push(response);
      return;
    }
    request.resume();
    request.on('end', () => response.end('handled'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  guardWebhooks(server, PATH, { limits, onRefused: (reason) => refused.push(reason) });
  const { port } = server.address() as AddressInfo;
  return { server, port, reached, held, refused };
}

/** Sends a request with exactly these headers (fetch would add a Content-Length). */
function send(
  port: number,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

const signed = { 'x-hub-signature-256': 'sha256=abc', 'x-github-event': 'ping' };

describe('guardWebhooks', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  });

  it('passes a signed delivery of declared length, and every other path, to the server unchanged', async () => {
    const g = await guardedServer();
    server = g.server;
    const body = '{"zen":"x"}';
    expect(await send(g.port, PATH, { ...signed, 'content-length': String(body.length) }, body)).toEqual({
      status: 200,
      text: 'handled',
    });
    expect((await send(g.port, '/other', { 'transfer-encoding': 'chunked' }, 'x')).status).toBe(200);
    expect(g.reached).toEqual([`POST ${PATH}`, 'POST /other']);
    expect(g.refused).toEqual([]);
  });

  it('refuses from the headers alone, before the server sees the request: unsigned, no length, too large', async () => {
    const g = await guardedServer({ maxBodyBytes: 1024 });
    server = g.server;
    const unsigned = await send(g.port, PATH, { 'content-length': '2' }, '{}');
    expect(unsigned.status).toBe(401);
    expect(JSON.parse(unsigned.text)).toMatchObject({ error: 'unsigned' });
    expect((await send(g.port, PATH, { ...signed, 'transfer-encoding': 'chunked' }, '{}')).status).toBe(411);
    const large = 'x'.repeat(4096);
    const tooLarge = await send(g.port, PATH, { ...signed, 'content-length': String(large.length) }, large);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.text).toContain('over 1024 bytes');
    expect(g.reached).toEqual([]);
    expect(g.refused).toEqual(['unsigned', 'no_length', 'too_large']);
  });

  it('handles at most maxConcurrent deliveries at once and answers 503 beyond, until one ends', async () => {
    const g = await guardedServer({ maxConcurrent: 2 });
    server = g.server;
    const headers = { ...signed, 'content-length': '2' };
    const first = send(g.port, `${PATH}?hold`, headers, '{}');
    const second = send(g.port, `${PATH}?hold`, headers, '{}');
    await waitFor(() => g.held.length === 2, { description: 'two deliveries being handled' });
    const third = await send(g.port, PATH, headers, '{}');
    expect(third.status).toBe(503);
    expect(g.refused).toEqual(['busy']);

    g.held[0]?.end('done');
    expect((await first).status).toBe(200);
    expect((await send(g.port, PATH, headers, '{}')).status).toBe(200);
    g.held[1]?.end('done');
    expect((await second).status).toBe(200);
  });
});
