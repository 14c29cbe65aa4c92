import type { Logger, ProbotOctokit } from 'probot';
import type { GitObjectCache } from './git-object-cache.js';
import { GitHub, type GitHubObserver, type RepoCoordinates } from './github.js';
import { RepoReader } from './repo-reader.js';
import type { BotSettings } from './settings.js';

/** What every handler works with while it handles one event of one repository. */
export interface BotSession {
  readonly github: GitHub;
  readonly reader: RepoReader;
  readonly settings: BotSettings;
  /** Probot's logger for the event: every line carries the delivery id. */
  readonly log: Logger;
}

export function openSession(
  octokit: ProbotOctokit,
  coordinates: RepoCoordinates,
  log: Logger,
  settings: BotSettings,
  cache: GitObjectCache,
  observer?: GitHubObserver,
): BotSession {
  const github = new GitHub(octokit, coordinates, observer);
  return { github, reader: new RepoReader(github, cache, settings.blobConcurrency), settings, log };
}
