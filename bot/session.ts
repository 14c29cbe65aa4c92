import type { Logger, ProbotOctokit } from 'probot';
import type { AppIdentity } from './app-identity.js';
import type { GitObjectCache } from './git-object-cache.js';
import { GitHub, type GitHubObserver, type RepoCoordinates } from './github.js';
import type { PerKeyQueue } from './per-key-queue.js';
import { RepoReader } from './repo-reader.js';
import type { BotSettings } from './settings.js';

/** What every handler works with while it handles one event of one repository. */
export interface BotSession {
  readonly github: GitHub;
  readonly reader: RepoReader;
  readonly settings: BotSettings;
  /** Probot's logger for the event: every line carries the delivery id. */
  readonly log: Logger;
  /** The app's own bot account (`<slug>[bot]`): the author of the comments it may edit. */
  readonly botLogin: () => Promise<string>;
  /** Runs work that reads and then writes a pull request's state, one delivery at a time per key. */
  readonly exclusive: <T>(key: string, work: () => Promise<T>) => Promise<T>;
}

/** What lives as long as the app, shared by the sessions of every delivery. */
export interface AppShared {
  readonly settings: BotSettings;
  readonly cache: GitObjectCache;
  readonly identity: AppIdentity;
  readonly queue: PerKeyQueue;
  readonly observer?: GitHubObserver;
}

export function openSession(
  octokit: ProbotOctokit,
  coordinates: RepoCoordinates,
  log: Logger,
  shared: AppShared,
): BotSession {
  const { settings, cache, identity, queue, observer } = shared;
  const github = new GitHub(octokit, coordinates, observer);
  return {
    github,
    reader: new RepoReader(github, cache, settings.blobConcurrency),
    settings,
    log,
    botLogin: () => identity.botLogin(),
    exclusive: (key, work) => queue.run(`${coordinates.owner}/${coordinates.repo}#${key}`, work),
  };
}
