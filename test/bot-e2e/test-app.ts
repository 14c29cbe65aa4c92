/*
 * Test fixtures of the bot (not part of the app): a Probot instance running the Cairn app, whose GitHub
 * API calls nock routes into the GitHub emulator, over a copy of example-config-repo.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import nock from 'nock';
import { pino } from 'pino';
import { createNodeMiddleware, Probot, ProbotOctokit } from 'probot';
import { createCairnApp } from '../../bot/app.js';
import { type BotSettings, DEFAULT_BOT_SETTINGS } from '../../bot/settings.js';
import { readRepoDir } from '../../core/index.js';
import {
  type AppCredentials,
  createAppCredentials,
  type EmulatedRepository,
  GitHubEmulator,
  interceptGitHub,
  type WebhookEvent,
} from '../github-emulator/index.js';

export const INSTALLATION_ID = 4242;
export const CONFIG_REPO = 'northwind/platform-config';

/** People of the example organisation, by role. Owners come from example-config-repo's service.yaml files. */
export const PEOPLE = {
  author: 'dana-dev',
  searchOwner: 'tomas-novak',
  searchTeamMember: 'sofia-search',
  sre: 'sam-sre',
  netops: 'nina-netops',
  platform: 'pat-platform',
  outsider: 'otto-outsider',
} as const;

export interface TestApp {
  readonly probot: Probot;
  readonly github: GitHubEmulator;
  readonly repo: EmulatedRepository;
  readonly credentials: AppCredentials;
  /** Delivers an event the way Probot's tests do: straight to `probot.receive()`. */
  receive(event: WebhookEvent): Promise<void>;
  /** With `serve`: the app's webhook URL on a loopback port, as GitHub would POST to it. */
  readonly webhookUrl: string | undefined;
  close(): Promise<void>;
}

/**
 * ProbotOctokit without retries and throttling, which would only slow tests down (the throttling
 * plugin spaces writes a second apart). The function form matters: Probot hands every instance its
 * own `throttle` options, which would replace a plain `{ throttle: { enabled: false } }` default.
 */
export const withoutRetries: typeof ProbotOctokit = ProbotOctokit.defaults(
  (options: Record<string, unknown>) => ({
    ...options,
    retry: { enabled: false },
    throttle: { ...(options.throttle as object | undefined), enabled: false },
  }),
);

let exampleFiles: ReadonlyMap<string, Uint8Array> | undefined;

/** The files of example-config-repo, read once. */
export async function exampleRepoFiles(): Promise<ReadonlyMap<string, Uint8Array>> {
  exampleFiles ??= (await readRepoDir(new URL('../../example-config-repo', import.meta.url).pathname)).tree;
  return exampleFiles;
}

/** A Probot instance with the Cairn app, in front of an emulated GitHub holding the example repository. */
export async function createTestApp(
  options: {
    files?: ReadonlyMap<string, Uint8Array>;
    settings?: BotSettings;
    octokit?: typeof ProbotOctokit;
    /** Serve webhooks over HTTP through Probot's Node middleware, as in production. */
    serve?: boolean;
  } = {},
): Promise<TestApp> {
  nock.disableNetConnect();
  const credentials = createAppCredentials();
  const github = new GitHubEmulator(credentials);
  github.addTeam('northwind', 'search', [PEOPLE.searchTeamMember]);
  github.addTeam('northwind', 'sre', [PEOPLE.sre]);
  github.addTeam('northwind', 'netops', [PEOPLE.netops]);
  github.addTeam('northwind', 'platform', [PEOPLE.platform]);
  const repo = github.createRepository(CONFIG_REPO, {
    files: options.files ?? (await exampleRepoFiles()),
    installationId: INSTALLATION_ID,
    ownerType: 'Organization',
  });
  const probot = new Probot({
    appId: credentials.appId,
    privateKey: credentials.privateKey,
    secret: credentials.webhookSecret,
    Octokit: options.octokit ?? withoutRetries,
    log: pino({ level: process.env.LOG_LEVEL ?? 'silent' }),
  });
  const cairn = createCairnApp({ settings: options.settings ?? DEFAULT_BOT_SETTINGS });
  let server: Server | undefined;
  let webhookUrl: string | undefined;
  if (options.serve) {
    const middleware = await createNodeMiddleware(cairn, { probot });
    server = createServer((req, res) => {
      void middleware(req, res, () => res.writeHead(404).end());
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/github/webhooks`;
    nock.enableNetConnect('127.0.0.1');
  } else await probot.load(cairn);
  const release = interceptGitHub(github);
  return {
    probot,
    github,
    repo,
    credentials,
    webhookUrl,
    receive: (event) => probot.receive(event as Parameters<Probot['receive']>[0]),
    close: async () => {
      release();
      nock.enableNetConnect();
      if (server) {
        server.closeAllConnections();
        await new Promise((resolve) => server?.close(resolve));
      }
    },
  };
}
