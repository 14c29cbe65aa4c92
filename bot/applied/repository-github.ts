import type { ProbotOctokit } from 'probot';
import { findRepositoryInstallation, GitHub, type GitHubObserver, type RepoCoordinates } from '../github.js';

/** How the app authenticates (Probot's `app.auth`): as itself without an id, as an installation with one. */
export interface AppAuthentication {
  auth(installationId?: number): Promise<ProbotOctokit>;
}

/**
 * The GitHub facade for one repository, for work that no webhook starts and so comes with no
 * installation: the app finds its installation on the repository once, then acts as it. Probot's
 * installation client renews its token by itself; `reset()` looks the installation up again, after
 * GitHub refused it (the app was uninstalled and installed anew).
 */
export class RepositoryGitHub {
  readonly coordinates: RepoCoordinates;
  private readonly app: AppAuthentication;
  private readonly observer: GitHubObserver | undefined;
  private current: Promise<GitHub> | undefined;

  constructor(app: AppAuthentication, coordinates: RepoCoordinates, observer?: GitHubObserver) {
    this.app = app;
    this.coordinates = coordinates;
    this.observer = observer;
  }

  get fullName(): string {
    return `${this.coordinates.owner}/${this.coordinates.repo}`;
  }

  /** The facade, acting as the app's installation on the repository. */
  github(): Promise<GitHub> {
    this.current ??= this.connect().catch((error: unknown) => {
      this.current = undefined;
      throw error;
    });
    return this.current;
  }

  reset(): void {
    this.current = undefined;
  }

  private async connect(): Promise<GitHub> {
    const installationId = await findRepositoryInstallation(await this.app.auth(), this.coordinates);
    return new GitHub(await this.app.auth(installationId), this.coordinates, this.observer);
  }
}
