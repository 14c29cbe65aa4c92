import type { ProbotOctokit } from 'probot';
import { GitHubError, type GitHubErrorCode } from './errors.js';

/**
 * Every GitHub API call the bot makes goes through this facade: one place that knows the REST
 * endpoints, paginates, and turns Octokit's errors into `GitHubError`s with stable codes and a message
 * that says which permission or setting to fix. Handlers never see Octokit.
 *
 * Retries of 5xx answers and waiting out rate limits happen below, in Octokit's retry and throttling
 * plugins (part of ProbotOctokit); an error that reaches this facade has already been retried.
 */

export interface RepoCoordinates {
  readonly owner: string;
  readonly repo: string;
}

/** What the bot needs to know about a pull request, from a webhook payload or from the API. */
export interface PullRequest {
  readonly number: number;
  readonly state: 'open' | 'closed';
  readonly merged: boolean;
  readonly author: string;
  readonly headSha: string;
  readonly headRef: string;
  /** `owner/name` of the repository the head branch lives in; undefined when that fork was deleted. */
  readonly headRepo: string | undefined;
  readonly baseSha: string;
  readonly baseRef: string;
  readonly baseRepo: string;
  /** True when the head lives in another repository than the base: a fork. */
  readonly fromFork: boolean;
  /** The count GitHub computed; `listPullRequestFiles` lists at most 3,000 of them. */
  readonly changedFiles: number | undefined;
  readonly mergeCommitSha: string | undefined;
  readonly mergedBy: string | undefined;
  /** Teams only exist in organisations: `team:` principals resolve to nobody in a user's repository. */
  readonly ownerIsOrganization: boolean;
}

/** The structural part of a pull request object that webhooks and the REST API have in common. */
export interface PullRequestShape {
  readonly number: number;
  readonly state: string;
  readonly merged?: boolean | null;
  readonly user: { readonly login: string } | null;
  readonly head: {
    readonly sha: string;
    readonly ref: string;
    readonly repo: { readonly full_name: string } | null;
  };
  readonly base: {
    readonly sha: string;
    readonly ref: string;
    readonly repo: { readonly full_name: string; readonly owner: { readonly type?: string } | null };
  };
  readonly changed_files?: number;
  readonly merge_commit_sha: string | null;
  readonly merged_by?: { readonly login: string } | null;
}

export function toPullRequest(shape: PullRequestShape): PullRequest {
  const headRepo = shape.head.repo?.full_name;
  return {
    number: shape.number,
    state: shape.state === 'closed' ? 'closed' : 'open',
    merged: shape.merged === true,
    author: shape.user?.login ?? '',
    headSha: shape.head.sha,
    headRef: shape.head.ref,
    headRepo,
    baseSha: shape.base.sha,
    baseRef: shape.base.ref,
    baseRepo: shape.base.repo.full_name,
    fromFork: headRepo === undefined || headRepo.toLowerCase() !== shape.base.repo.full_name.toLowerCase(),
    changedFiles: shape.changed_files,
    mergeCommitSha: shape.merge_commit_sha ?? undefined,
    mergedBy: shape.merged_by?.login,
    ownerIsOrganization: shape.base.repo.owner?.type === 'Organization',
  };
}

export interface ChangedFile {
  readonly path: string;
  /** The old path of a renamed file: it changes too. */
  readonly previousPath?: string;
  readonly status: string;
}

export type ReviewState = 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED' | 'PENDING';

export interface Review {
  readonly id: number;
  readonly login: string;
  readonly state: ReviewState;
  /** The head commit the reviewer looked at. */
  readonly commitId: string | undefined;
  readonly submittedAt: string | undefined;
}

export interface TreeEntry {
  readonly path: string;
  readonly mode: string;
  readonly type: 'blob' | 'tree' | 'commit';
  readonly sha: string;
  readonly size?: number;
}

export interface TreeListing {
  readonly sha: string;
  readonly truncated: boolean;
  readonly entries: readonly TreeEntry[];
}

export interface CheckRunAnnotation {
  readonly path: string;
  readonly start_line: number;
  readonly end_line: number;
  readonly start_column?: number;
  readonly end_column?: number;
  readonly annotation_level: 'notice' | 'warning' | 'failure';
  readonly message: string;
  readonly title?: string;
}

export interface CheckRunOutput {
  readonly title: string;
  readonly summary: string;
  readonly text?: string;
  readonly annotations?: readonly CheckRunAnnotation[];
}

export type CheckConclusion = 'success' | 'failure' | 'neutral' | 'action_required' | 'timed_out';

export interface CheckRunUpdate {
  readonly status?: 'in_progress' | 'completed';
  readonly conclusion?: CheckConclusion;
  readonly output: CheckRunOutput;
}

export interface NewCheckRun extends CheckRunUpdate {
  readonly name: string;
  readonly headSha: string;
  /** Ours to set: lets the bot find its own run among other apps' runs of the same name. */
  readonly externalId: string;
}

export interface ExistingCheckRun {
  readonly id: number;
  readonly completed: boolean;
  /** Set once the run is completed. */
  readonly conclusion: string | undefined;
}

export interface IssueComment {
  readonly id: number;
  readonly body: string;
  /** Who wrote it: a person's login, or an app's bot account (`<app slug>[bot]`). */
  readonly author: string;
}

/** A GitHub Deployment the bot made for a Cairn deployment, found again by its payload's key. */
export interface GitHubDeployment {
  readonly id: number;
  /** The state of its newest status and that status's description; undefined before any status. */
  readonly latest: { readonly state: string; readonly description: string } | undefined;
}

export interface NewDeployment {
  /** The commit that was deployed. */
  readonly sha: string;
  readonly environment: string;
  readonly description: string;
  /** Identifies the Cairn deployment: kept in the payload, so a restarted bot finds it. */
  readonly key: string;
  readonly payload: Record<string, unknown>;
}

export interface NewTreeEntry {
  readonly path: string;
  readonly sha: string;
}

type CallPermission =
  | 'contents: read'
  | 'contents: write'
  | 'pull_requests: read'
  | 'pull_requests: write'
  | 'checks: write'
  | 'deployments: write'
  | 'issues: write'
  | 'members: read';

/** Told of what GitHub confirmed, for metrics; never of what failed (that is the caller's to report). */
export interface GitHubObserver {
  checkRunCompleted(name: string, conclusion: string): void;
}

export class GitHub {
  readonly coordinates: RepoCoordinates;
  private readonly octokit: ProbotOctokit;
  private readonly observer: GitHubObserver | undefined;

  constructor(octokit: ProbotOctokit, coordinates: RepoCoordinates, observer?: GitHubObserver) {
    this.octokit = octokit;
    this.coordinates = coordinates;
    this.observer = observer;
  }

  get fullName(): string {
    return `${this.coordinates.owner}/${this.coordinates.repo}`;
  }

  async getPullRequest(number: number): Promise<PullRequest> {
    return this.call('getPullRequest', 'pull_requests: read', async () => {
      const { data } = await this.octokit.rest.pulls.get({ ...this.coordinates, pull_number: number });
      return toPullRequest(data);
    });
  }

  /** The files a pull request changes; GitHub lists at most 3,000 (compare with `changedFiles`). */
  async listPullRequestFiles(number: number): Promise<ChangedFile[]> {
    return this.call('listPullRequestFiles', 'pull_requests: read', async () => {
      const files = await this.octokit.paginate(this.octokit.rest.pulls.listFiles, {
        ...this.coordinates,
        pull_number: number,
        per_page: 100,
      });
      return files.map((file) => ({
        path: file.filename,
        status: file.status,
        ...(file.previous_filename ? { previousPath: file.previous_filename } : {}),
      }));
    });
  }

  async listReviews(number: number): Promise<Review[]> {
    return this.call('listReviews', 'pull_requests: read', async () => {
      const reviews = await this.octokit.paginate(this.octokit.rest.pulls.listReviews, {
        ...this.coordinates,
        pull_number: number,
        per_page: 100,
      });
      return reviews.map((review) => ({
        id: review.id,
        login: review.user?.login ?? '',
        state: review.state as ReviewState,
        commitId: review.commit_id ?? undefined,
        submittedAt: review.submitted_at,
      }));
    });
  }

  /** Whether `login` is an active member of the organisation's team (a pending invitation is not). */
  async isActiveTeamMember(org: string, teamSlug: string, login: string): Promise<boolean> {
    try {
      return await this.call('isActiveTeamMember', 'members: read', async () => {
        const { data } = await this.octokit.rest.teams.getMembershipForUserInOrg({
          org,
          team_slug: teamSlug,
          username: login,
        });
        return data.state === 'active';
      });
    } catch (error) {
      // GitHub answers 404 both for "not a member" and for "no such team": neither approves.
      if (error instanceof GitHubError && error.code === 'GITHUB_NOT_FOUND') return false;
      throw error;
    }
  }

  /** The listing of a tree (a commit sha resolves to its tree). */
  async getTree(sha: string, recursive: boolean): Promise<TreeListing> {
    return this.call('getTree', 'contents: read', async () => {
      const { data } = await this.octokit.rest.git.getTree({
        ...this.coordinates,
        tree_sha: sha,
        ...(recursive ? { recursive: '1' } : {}),
      });
      return {
        sha: data.sha,
        truncated: data.truncated,
        entries: data.tree.map((entry) => ({
          path: entry.path ?? '',
          mode: entry.mode ?? '',
          type: (entry.type ?? 'blob') as TreeEntry['type'],
          sha: entry.sha ?? '',
          ...(entry.size !== undefined ? { size: entry.size } : {}),
        })),
      };
    });
  }

  /** A blob's raw bytes, exactly as committed (GitHub sends them base64-encoded). */
  async getBlob(sha: string): Promise<Uint8Array> {
    return this.call('getBlob', 'contents: read', async () => {
      const { data } = await this.octokit.rest.git.getBlob({ ...this.coordinates, file_sha: sha });
      return data.encoding === 'base64'
        ? new Uint8Array(Buffer.from(data.content, 'base64'))
        : new Uint8Array(Buffer.from(data.content, 'utf8'));
    });
  }

  async createCheckRun(run: NewCheckRun): Promise<number> {
    return this.call('createCheckRun', 'checks: write', async () => {
      const { data } = await this.octokit.rest.checks.create({
        ...this.coordinates,
        name: run.name,
        head_sha: run.headSha,
        external_id: run.externalId,
        ...checkRunFields(run),
      });
      this.observeCheckRun(data);
      return data.id;
    });
  }

  async updateCheckRun(id: number, update: CheckRunUpdate): Promise<void> {
    await this.call('updateCheckRun', 'checks: write', async () => {
      const { data } = await this.octokit.rest.checks.update({
        ...this.coordinates,
        check_run_id: id,
        ...checkRunFields(update),
      });
      if (update.conclusion !== undefined) this.observeCheckRun(data);
    });
  }

  /** The bot's latest run named `name` on `headSha`, if there is one. */
  async findCheckRun(
    headSha: string,
    name: string,
    externalId: string,
  ): Promise<ExistingCheckRun | undefined> {
    return this.call('findCheckRun', 'checks: write', async () => {
      const { data } = await this.octokit.rest.checks.listForRef({
        ...this.coordinates,
        ref: headSha,
        check_name: name,
        filter: 'latest',
        per_page: 100,
      });
      const run = data.check_runs.find((candidate) => candidate.external_id === externalId);
      return run
        ? { id: run.id, completed: run.status === 'completed', conclusion: run.conclusion ?? undefined }
        : undefined;
    });
  }

  async listIssueComments(number: number): Promise<IssueComment[]> {
    return this.call('listIssueComments', 'pull_requests: read', async () => {
      const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
        ...this.coordinates,
        issue_number: number,
        per_page: 100,
      });
      return comments.map((comment) => ({
        id: comment.id,
        body: comment.body ?? '',
        author: comment.user?.login ?? '',
      }));
    });
  }

  async createIssueComment(number: number, body: string): Promise<number> {
    return this.call('createIssueComment', 'pull_requests: write', async () => {
      const { data } = await this.octokit.rest.issues.createComment({
        ...this.coordinates,
        issue_number: number,
        body,
      });
      return data.id;
    });
  }

  async updateIssueComment(id: number, body: string): Promise<void> {
    await this.call('updateIssueComment', 'pull_requests: write', async () => {
      await this.octokit.rest.issues.updateComment({ ...this.coordinates, comment_id: id, body });
    });
  }

  /** Answers a comment with a reaction (`+1`, `confused`, …); GitHub keeps one per reaction and author. */
  async reactToIssueComment(commentId: number, content: '+1' | '-1' | 'confused' | 'eyes'): Promise<void> {
    await this.call('reactToIssueComment', 'issues: write', async () => {
      await this.octokit.rest.reactions.createForIssueComment({
        ...this.coordinates,
        comment_id: commentId,
        content,
      });
    });
  }

  /**
   * The deployment of `environment` on `sha` whose payload carries `key` under `cairn.key`, with its
   * newest status; undefined when the bot made none yet.
   */
  async findDeployment(sha: string, environment: string, key: string): Promise<GitHubDeployment | undefined> {
    return this.call('findDeployment', 'deployments: write', async () => {
      const deployments = await this.octokit.paginate(this.octokit.rest.repos.listDeployments, {
        ...this.coordinates,
        sha,
        environment,
        per_page: 100,
      });
      const found = deployments.find((d) => cairnKeyOf(d.payload) === key);
      if (!found) return undefined;
      const { data } = await this.octokit.rest.repos.listDeploymentStatuses({
        ...this.coordinates,
        deployment_id: found.id,
        per_page: 1,
      });
      const [newest] = data;
      return {
        id: found.id,
        latest: newest ? { state: newest.state, description: newest.description ?? '' } : undefined,
      };
    });
  }

  /** A deployment of a commit that Cairn rolled out: no merge, no required status checks (it already ran). */
  async createDeployment(deployment: NewDeployment): Promise<number> {
    return this.call('createDeployment', 'deployments: write', async () => {
      const { data } = await this.octokit.rest.repos.createDeployment({
        ...this.coordinates,
        ref: deployment.sha,
        environment: deployment.environment,
        description: deployment.description,
        auto_merge: false,
        required_contexts: [],
        transient_environment: false,
        payload: { ...deployment.payload, cairn: { key: deployment.key } },
      });
      // 202 comes only with auto_merge, which is off: a deployment always has its id here.
      if (!('id' in data)) throw new Error(`GitHub did not create the deployment: ${data.message ?? ''}`);
      return data.id;
    });
  }

  /**
   * A status of a deployment. `auto_inactive` is off: GitHub would mark every older deployment of the
   * environment inactive, those of the other services sharing it included; the bot marks each
   * superseded deployment inactive itself.
   */
  async createDeploymentStatus(
    deploymentId: number,
    status: {
      readonly state: 'queued' | 'in_progress' | 'success' | 'failure' | 'inactive';
      readonly description: string;
    },
  ): Promise<void> {
    await this.call('createDeploymentStatus', 'deployments: write', async () => {
      await this.octokit.rest.repos.createDeploymentStatus({
        ...this.coordinates,
        deployment_id: deploymentId,
        state: status.state,
        description: status.description,
        auto_inactive: false,
      });
    });
  }

  /** The commit a ref points at, or undefined when the ref does not exist. `ref` is `refs/…`. */
  async getRef(ref: string): Promise<string | undefined> {
    try {
      return await this.call('getRef', 'contents: read', async () => {
        const { data } = await this.octokit.rest.git.getRef({ ...this.coordinates, ref: shortRef(ref) });
        return data.object.sha;
      });
    } catch (error) {
      if (error instanceof GitHubError && error.code === 'GITHUB_NOT_FOUND') return undefined;
      throw error;
    }
  }

  /** The tree a commit points at. */
  async getCommitTree(sha: string): Promise<string> {
    return this.call('getCommitTree', 'contents: read', async () => {
      const { data } = await this.octokit.rest.git.getCommit({ ...this.coordinates, commit_sha: sha });
      return data.tree.sha;
    });
  }

  async createBlob(content: string): Promise<string> {
    return this.call('createBlob', 'contents: write', async () => {
      const { data } = await this.octokit.rest.git.createBlob({
        ...this.coordinates,
        content,
        encoding: 'utf-8',
      });
      return data.sha;
    });
  }

  /** A tree of regular files, on top of `baseTree` when given; entries' paths may contain `/`. */
  async createTree(baseTree: string | undefined, entries: readonly NewTreeEntry[]): Promise<string> {
    return this.call('createTree', 'contents: write', async () => {
      const { data } = await this.octokit.rest.git.createTree({
        ...this.coordinates,
        ...(baseTree ? { base_tree: baseTree } : {}),
        tree: entries.map((entry) => ({ path: entry.path, mode: '100644', type: 'blob', sha: entry.sha })),
      });
      return data.sha;
    });
  }

  async createCommit(message: string, tree: string, parents: readonly string[]): Promise<string> {
    return this.call('createCommit', 'contents: write', async () => {
      const { data } = await this.octokit.rest.git.createCommit({
        ...this.coordinates,
        message,
        tree,
        parents: [...parents],
      });
      return data.sha;
    });
  }

  /** Creates `ref`; fails with GITHUB_REJECTED when it already exists. */
  async createRef(ref: string, sha: string): Promise<void> {
    await this.call('createRef', 'contents: write', async () => {
      await this.octokit.rest.git.createRef({ ...this.coordinates, ref, sha });
    });
  }

  /** Moves `ref` forward to `sha`; fails with GITHUB_REJECTED when that is not a fast-forward. */
  async fastForwardRef(ref: string, sha: string): Promise<void> {
    await this.call('fastForwardRef', 'contents: write', async () => {
      await this.octokit.rest.git.updateRef({ ...this.coordinates, ref: shortRef(ref), sha, force: false });
    });
  }

  /** The run as GitHub now has it: only a run GitHub says is completed counts as concluded. */
  private observeCheckRun(run: { name: string; status: string; conclusion: string | null }): void {
    if (run.status === 'completed') this.observer?.checkRunCompleted(run.name, run.conclusion ?? 'none');
  }

  private async call<T>(
    operation: string,
    permission: CallPermission,
    request: () => Promise<T>,
  ): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw translateError(`github.${operation}`, permission, this.fullName, error);
    }
  }
}

function cairnKeyOf(payload: unknown): string | undefined {
  const cairn = (payload as { cairn?: { key?: unknown } } | null)?.cairn;
  return typeof cairn?.key === 'string' ? cairn.key : undefined;
}

/** What GitHub hands back, once, for an app registered from a manifest. */
export interface RegisteredApp {
  readonly id: number;
  readonly slug: string;
  readonly name: string;
  /** The app's page on GitHub; `<htmlUrl>/installations/new` installs it. */
  readonly htmlUrl: string;
  readonly owner: string;
  readonly privateKey: string;
  readonly webhookSecret: string;
}

/**
 * Completes the registration of an app from its manifest: exchanges the code GitHub sent the browser
 * back with for the app's ID, private key and webhook secret. Unauthenticated; a code works once,
 * within an hour.
 */
export async function createAppFromManifest(octokit: ProbotOctokit, code: string): Promise<RegisteredApp> {
  try {
    const { data } = await octokit.rest.apps.createFromManifest({ code });
    return {
      id: data.id,
      slug: data.slug ?? '',
      name: data.name,
      htmlUrl: data.html_url,
      owner: data.owner && 'login' in data.owner ? data.owner.login : '',
      privateKey: data.pem,
      webhookSecret: data.webhook_secret ?? '',
    };
  } catch (error) {
    const operation = 'github.createAppFromManifest';
    if (isOctokitError(error) && (error.status === 404 || error.status === 422)) {
      throw new GitHubError(
        error.status === 404 ? 'GITHUB_NOT_FOUND' : 'GITHUB_REJECTED',
        operation,
        error.status,
        `${operation}: GitHub answered ${error.status} (${error.message ?? 'no message'}); the registration code is unknown, used already or more than an hour old: open the registration page again and register anew`,
        { cause: error },
      );
    }
    throw translateError(operation, 'none (an unauthenticated call)', 'the app registration', error);
  }
}

/**
 * The login of the app's own bot account, `<app slug>[bot]`: what GitHub shows as the author of
 * whatever the app writes. Asked as the app itself (`GET /app`, `octokit` authenticated with the
 * app's JWT, as Probot's `app.auth()` gives it).
 */
export async function getAppBotLogin(octokit: ProbotOctokit): Promise<string> {
  const operation = 'github.getAppBotLogin';
  try {
    const { data } = await octokit.rest.apps.getAuthenticated();
    if (!data?.slug) throw new Error("GET /app answered without the app's slug");
    return `${data.slug}[bot]`;
  } catch (error) {
    throw translateError(operation, 'none (asked as the app)', 'the app itself', error);
  }
}

/**
 * The id of the app's installation on a repository, asked as the app itself (`octokit` authenticated
 * with the app's JWT, as Probot's `app.auth()` gives it). For work no webhook starts, such as a check
 * on a commit the syncer mirrored: `app.auth(id)` then acts on the repository.
 */
export async function findRepositoryInstallation(
  octokit: ProbotOctokit,
  coordinates: RepoCoordinates,
): Promise<number> {
  const repository = `${coordinates.owner}/${coordinates.repo}`;
  const operation = 'github.findRepositoryInstallation';
  try {
    const { data } = await octokit.rest.apps.getRepoInstallation({ ...coordinates });
    return data.id;
  } catch (error) {
    if (isOctokitError(error) && error.status === 404) {
      throw new GitHubError(
        'GITHUB_NOT_FOUND',
        operation,
        404,
        `${operation}: the app is not installed on ${repository} (GitHub answered 404): install it on that repository (bot/README.md, step 4), or correct CAIRN_REPOSITORY`,
        { cause: error },
      );
    }
    throw translateError(operation, 'none (asked as the app)', repository, error);
  }
}

function checkRunFields(update: CheckRunUpdate) {
  const { output } = update;
  return {
    ...(update.status ? { status: update.status } : {}),
    ...(update.conclusion ? { conclusion: update.conclusion, completed_at: new Date().toISOString() } : {}),
    output: {
      title: output.title,
      summary: output.summary,
      ...(output.text !== undefined ? { text: output.text } : {}),
      ...(output.annotations ? { annotations: output.annotations.map((a) => ({ ...a })) } : {}),
    },
  };
}

/** The REST API names refs without their `refs/` prefix in paths. */
function shortRef(ref: string): string {
  return ref.startsWith('refs/') ? ref.slice('refs/'.length) : ref;
}

interface OctokitErrorShape {
  readonly status: number;
  readonly message?: string;
  readonly response?: { readonly headers?: Readonly<Record<string, string | number | undefined>> };
}

function isOctokitError(error: unknown): error is OctokitErrorShape {
  return (
    typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number'
  );
}

/** Turns whatever Octokit threw into a GitHubError whose message tells an operator what to do. */
export function translateError(
  operation: string,
  permission: string,
  repository: string,
  error: unknown,
): GitHubError {
  if (error instanceof GitHubError) return error;
  if (!isOctokitError(error)) {
    return new GitHubError(
      'GITHUB_UNAVAILABLE',
      operation,
      undefined,
      `${operation} on ${repository} got no answer from GitHub (${(error as Error)?.message ?? String(error)}): ` +
        'check the network path to the GitHub API, then press "Re-run" on the check or redeliver the webhook',
      { cause: error },
    );
  }
  const status = error.status;
  const headers = error.response?.headers ?? {};
  const detail = error.message ? ` (${error.message})` : '';
  const make = (code: GitHubErrorCode, advice: string) =>
    new GitHubError(
      code,
      operation,
      status,
      `${operation} on ${repository}: GitHub answered ${status}${detail}; ${advice}`,
      {
        cause: error,
      },
    );
  // A primary limit says `x-ratelimit-remaining: 0`; a secondary limit sends `retry-after`.
  const limited = String(headers['x-ratelimit-remaining']) === '0' || headers['retry-after'] !== undefined;
  if (status === 429 || (status === 403 && limited)) {
    return make(
      'GITHUB_RATE_LIMITED',
      'the rate limit is still exhausted after the throttling plugin waited: redeliver the webhook once it resets',
    );
  }
  switch (status) {
    case 401:
      return make(
        'GITHUB_UNAUTHORIZED',
        'check that APP_ID and the private key belong to the same GitHub App and that the installation still exists',
      );
    case 403:
      return make(
        'GITHUB_FORBIDDEN',
        `the app needs the "${permission}" permission: grant it in the app's settings (see bot/app.yml) and accept it on the installation`,
      );
    case 404:
      return make(
        'GITHUB_NOT_FOUND',
        `it does not exist, or the installation cannot see it (needs "${permission}" on ${repository})`,
      );
    case 409:
      return make(
        'GITHUB_CONFLICT',
        'the repository is empty or in a state that forbids this; push a commit first',
      );
    case 422:
      return make('GITHUB_REJECTED', 'GitHub refused the request as sent');
    default:
      return make(
        'GITHUB_UNAVAILABLE',
        'GitHub failed even after retries: press "Re-run" on the check or redeliver the webhook',
      );
  }
}
