import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Logger, ProbotOctokit } from 'probot';
import { CairnError } from '../../core/index.js';
import { createAppFromManifest } from '../github.js';
import { type AppManifest, manifestForRegistration } from './app-manifest.js';
import { updateEnvFile } from './env-file.js';

type Environment = Readonly<Record<string, string | undefined>>;

export interface RegistrationOptions {
  readonly manifest: AppManifest;
  /** Where the manifest was read from, for the page and the log. */
  readonly manifestPath: string;
  /** HOST, PORT, GH_ORG, GHE_HOST, GHE_PROTOCOL, WEBHOOK_PROXY_URL, as Probot's set-up reads them. */
  readonly env: Environment;
  /** The .env file the app's ID, private key and webhook secret are written to. */
  readonly envFile: string;
  readonly log: Logger;
  /** For the code exchange; by default an unauthenticated client of github.com or GHE_HOST. */
  readonly octokit?: ProbotOctokit;
}

export interface RegistrationServer {
  /** Where the registration page is, e.g. `http://localhost:3000/register`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * What `cairn bot` serves until the app is registered: a page that registers it on GitHub from
 * bot/app.yml (GitHub's "register from a manifest" flow), and the page GitHub sends the browser back
 * to, which exchanges the code for the app's credentials and writes them to `.env`. It takes the place
 * of Probot's set-up page, which reads app.yml from the working directory only.
 */
export async function startRegistration(options: RegistrationOptions): Promise<RegistrationServer> {
  const { env, log } = options;
  // The manifest flow's `state`: only a browser that went through this page can complete it.
  const state = randomBytes(16).toString('hex');
  const protocol = env.GHE_PROTOCOL || 'https';
  const webHost = env.GHE_HOST || 'github.com';
  const octokit =
    options.octokit ??
    new ProbotOctokit({
      baseUrl: env.GHE_HOST ? `${protocol}://${env.GHE_HOST}/api/v3` : 'https://api.github.com',
    });
  const formAction = `${protocol}://${webHost}${env.GH_ORG ? `/organizations/${encodeURIComponent(env.GH_ORG)}` : ''}/settings/apps/new?state=${state}`;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error({ err: error }, 'the registration page failed');
      if (!response.headersSent) page(response, 500, 'Registration failed', `<p>${html(String(error))}</p>`);
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method !== 'GET') return page(response, 405, 'Not here', '<p>Use GET.</p>');
    switch (url.pathname) {
      case '/':
        response.writeHead(302, { location: '/register' }).end();
        return;
      case '/ping':
        response.writeHead(200, { 'content-type': 'text/plain' }).end('PONG');
        return;
      case '/healthz':
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end(`${JSON.stringify({ status: 'unregistered', register: '/register' })}\n`);
        return;
      case '/register':
        return registrationPage(request, response);
      case '/register/done':
        return completeRegistration(url, response);
      default:
        return page(
          response,
          404,
          'Not registered yet',
          '<p>The app is not registered yet: <a href="/register">register it</a>.</p>',
        );
    }
  }

  function registrationPage(request: IncomingMessage, response: ServerResponse): void {
    const baseUrl = baseUrlOf(request);
    const webhookUrl = env.WEBHOOK_PROXY_URL || `${baseUrl}/api/github/webhooks`;
    const manifest = manifestForRegistration(options.manifest, {
      baseUrl,
      webhookUrl,
      redirectUrl: `${baseUrl}/register/done`,
    });
    const local = !env.WEBHOOK_PROXY_URL && /^https?:\/\/(localhost|127\.|\[::1\])/.test(baseUrl);
    const permissions = Object.entries(options.manifest.default_permissions)
      .map(([name, level]) => `<code>${html(name)}: ${html(level)}</code>`)
      .join(', ');
    const events = options.manifest.default_events.map((e) => `<code>${html(e)}</code>`).join(', ');
    page(
      response,
      200,
      `Register ${options.manifest.name}`,
      [
        `<p>GitHub will show the app as <code>${html(options.manifestPath)}</code> describes it${env.GH_ORG ? `, owned by the organisation <b>${html(env.GH_ORG)}</b>` : ', owned by your own account (set GH_ORG to register it to an organisation)'}:</p>`,
        `<ul><li>permissions ${permissions}</li><li>events ${events}</li><li>webhooks to <code>${html(webhookUrl)}</code></li></ul>`,
        local
          ? '<p><b>GitHub cannot reach this address.</b> To try the bot from here, create a channel at <a href="https://smee.io/new">smee.io/new</a>, set WEBHOOK_PROXY_URL to it and restart <code>cairn bot</code>; in production, open this page through the public host GitHub will deliver to.</p>'
          : '',
        `<form action="${html(formAction)}" method="post"><input type="hidden" name="manifest" value="${html(manifest)}"><button type="submit">Register on GitHub</button></form>`,
        `<p>GitHub then sends you back here, and the app's ID, private key and webhook secret are written to <code>${html(options.envFile)}</code>.</p>`,
      ].join('\n'),
    );
  }

  async function completeRegistration(url: URL, response: ServerResponse): Promise<void> {
    const code = url.searchParams.get('code');
    if (!code || url.searchParams.get('state') !== state) {
      return page(
        response,
        400,
        'Not from this registration',
        '<p>This address only completes a registration started on <a href="/register">this bot\'s page</a> (the code or its state is missing or different).</p>',
      );
    }
    let app: Awaited<ReturnType<typeof createAppFromManifest>>;
    try {
      app = await createAppFromManifest(octokit, code);
    } catch (error) {
      if (!(error instanceof CairnError)) throw error;
      log.error({ err: error }, 'GitHub did not complete the registration');
      return page(response, 502, 'GitHub did not complete the registration', `<p>${html(error.message)}</p>`);
    }
    updateEnvFile(options.envFile, {
      APP_ID: String(app.id),
      PRIVATE_KEY: app.privateKey,
      WEBHOOK_SECRET: app.webhookSecret,
      ...(env.WEBHOOK_PROXY_URL ? { WEBHOOK_PROXY_URL: env.WEBHOOK_PROXY_URL } : {}),
    });
    log.info(
      { appId: app.id, app: app.slug, owner: app.owner, envFile: options.envFile },
      `registered the GitHub App "${app.name}"; its ID, private key and webhook secret are in ${options.envFile}: install it on the config repository, then restart cairn bot`,
    );
    response.writeHead(302, { location: `${app.htmlUrl}/installations/new` }).end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(env.PORT) || 3000, env.HOST || 'localhost', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${env.HOST ? host : 'localhost'}:${address.port}/register`;
  log.info(
    { url, manifest: options.manifestPath, org: env.GH_ORG },
    `the GitHub App is not registered yet (no APP_ID and private key): open ${url} to register it from ${options.manifestPath}`,
  );
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** The address the browser used, as Probot's set-up works it out (a proxy's forwarded headers first). */
function baseUrlOf(request: IncomingMessage): string {
  const forwardedProto = first(request.headers['x-forwarded-proto']);
  const protocol =
    forwardedProto ?? ((request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
  const host = first(request.headers['x-forwarded-host']) ?? request.headers.host ?? 'localhost';
  return `${protocol}://${host}`;
}

function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text?.split(',')[0]?.trim() || undefined;
}

function page(response: ServerResponse, status: number, title: string, body: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  response.end(
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${html(title)}</title></head>\n<body>\n<h1>${html(title)}</h1>\n${body}\n</body></html>\n`,
  );
}

function html(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}
