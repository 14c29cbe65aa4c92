import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GitHubEmulator } from './emulator.js';

export interface ServedEmulator {
  /** Base URL of the REST API, e.g. `http://127.0.0.1:41234`: Octokit's `baseUrl`. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves the emulator's REST API over HTTP on a free loopback port. */
export async function serveGitHubEmulator(github: GitHubEmulator): Promise<ServedEmulator> {
  const server = createServer(async (req, res) => {
    try {
      const raw = await readBody(req);
      const type = req.headers['content-type'] ?? '';
      let body: unknown;
      if (raw.length > 0)
        body = type.includes('json') ? JSON.parse(raw.toString('utf8')) : raw.toString('utf8');
      const address = server.address() as AddressInfo;
      const response = github.handle({
        method: req.method ?? 'GET',
        url: `http://127.0.0.1:${address.port}${req.url ?? '/'}`,
        headers: req.headers,
        body,
      });
      res.writeHead(response.status, response.headers);
      res.end(response.body === undefined ? undefined : JSON.stringify(response.body));
    } catch (error) {
      github.violations.push({
        request: `${req.method} ${req.url}`,
        problem: `emulator failed: ${(error as Error).stack}`,
      });
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ message: 'emulator failed', documentation_url: 'https://docs.github.com/rest' }),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
