import { randomBytes } from 'node:crypto';
import { type AppCredentials, verifyAppJwt } from './app-credentials.js';
import { type FileContent, type GitCommit, GitObjectStore } from './git-objects.js';
import { loadGitHubOpenApi, type OpenApiDescription, type Operation } from './openapi.js';
import type {
  Account,
  AppRecord,
  CheckRunRecord,
  CommentRecord,
  DeploymentRecord,
  PullRecord,
  RepositoryRecord,
  ReviewRecord,
} from './rest-objects.js';
import * as rest from './rest-objects.js';
import { type WebhookEvent, webhookEvent } from './webhook-events.js';

/** A request as the emulator sees it, whatever carried it (a socket, or nock). */
export interface EmulatedRequest {
  readonly method: string;
  /** Absolute URL, so pagination links point back where the client came from. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly body?: unknown;
}

export interface EmulatedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

/** One handled request, for tests to assert on. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query, e.g. `/repos/northwind/config/check-runs`. */
  readonly path: string;
  readonly operationId: string | undefined;
  readonly status: number;
  readonly requestBody: unknown;
  readonly responseBody: unknown;
}

/** A request or response that GitHub's OpenAPI description does not allow: a test must fail on it. */
export interface Violation {
  readonly request: string;
  readonly problem: string;
}

/** An answer the emulator gives instead of the real one, to test retries and rate limits. */
export interface Fault {
  readonly method?: string;
  readonly path: RegExp;
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  /** How many matching requests get the fault. Default 1. */
  readonly times?: number;
}

interface RepoState {
  readonly record: RepositoryRecord;
  readonly refs: Map<string, string>;
  readonly pulls: Map<number, PullRecord>;
  readonly reviews: ReviewRecord[];
  readonly checkRuns: CheckRunRecord[];
  readonly comments: CommentRecord[];
  readonly deployments: DeploymentRecord[];
  /** Reactions on issue comments: comment id → `login content` pairs, one of each per author. */
  readonly reactions: Map<number, Set<string>>;
  readonly installationId: number | undefined;
  nextNumber: number;
}

interface RouteContext {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly url: URL;
  readonly installationId: number | undefined;
  readonly operation: Operation;
}

type Route = (context: RouteContext) => EmulatedResponse;

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** Operations an app calls as itself, with its JWT, rather than with an installation's token. */
const APP_OPERATIONS = new Set([
  'apps/get-authenticated',
  'apps/create-installation-access-token',
  'apps/get-repo-installation',
]);

/** The fields of an app manifest that GitHub requires, and the emulator reads. */
interface AppManifestRecord {
  readonly name: string;
  readonly description?: string;
  readonly url: string;
  readonly hook_attributes: { readonly url: string };
  readonly redirect_url: string;
  readonly default_events: readonly string[];
  readonly default_permissions: Readonly<Record<string, string>>;
}

/**
 * An in-memory GitHub for the REST endpoints the Cairn bot calls, and a source of the webhooks GitHub
 * would send. Every request and every response is checked against GitHub's OpenAPI description; a
 * mismatch is recorded in `violations` (and fails `assertNoViolations`) instead of passing silently.
 * Installation tokens are only issued for a JWT signed with the app's private key.
 */
export class GitHubEmulator {
  readonly objects = new GitObjectStore();
  readonly requests: RecordedRequest[] = [];
  readonly violations: Violation[] = [];
  /** Entries a recursive tree listing holds before GitHub truncates it (100,000 on github.com). */
  treeEntryLimit = 100_000;
  readonly app: AppRecord;
  readonly bot: Account;

  private readonly spec: OpenApiDescription;
  private readonly accounts = new Map<string, Account>();
  private readonly repos = new Map<string, RepoState>();
  private readonly teams = new Map<string, Map<string, Set<string>>>();
  private readonly installations = new Map<number, string>();
  private readonly tokens = new Map<string, { installationId: number; expiresAt: number }>();
  private readonly faults: { fault: Fault; remaining: number }[] = [];
  /** Codes of apps registered from a manifest, each exchanged once for the app's credentials. */
  private readonly manifestCodes = new Map<string, { manifest: AppManifestRecord; owner: Account }>();
  private readonly routes: ReadonlyMap<string, Route>;
  private nextId = 1000;
  private clock = Date.parse('2024-12-09T10:00:00Z');

  constructor(readonly credentials: AppCredentials) {
    this.routes = this.createRoutes();
    // Full schemas for what the emulator answers; every other operation is only recognised.
    this.spec = loadGitHubOpenApi([...this.routes.keys()]);
    this.app = {
      id: credentials.appId,
      slug: credentials.slug,
      owner: this.account('northwind', 'Organization'),
    };
    this.bot = this.account(`${credentials.slug}[bot]`, 'Bot');
  }

  /** A user, organisation or bot account, created on first use. */
  account(login: string, type: Account['type'] = 'User'): Account {
    const key = login.toLowerCase();
    let found = this.accounts.get(key);
    if (!found) {
      found = { login, id: this.id(), type };
      this.accounts.set(key, found);
    }
    return found;
  }

  /** A team of an organisation, with its active members. */
  addTeam(org: string, slug: string, members: readonly string[]): void {
    const teams = this.teams.get(org.toLowerCase()) ?? new Map<string, Set<string>>();
    teams.set(slug, new Set(members.map((m) => m.toLowerCase())));
    this.teams.set(org.toLowerCase(), teams);
  }

  /**
   * A repository with one commit of `files` on its default branch. With `installationId` the app is
   * installed on it; a fork (`forkOf`) shares the parent's objects, as on GitHub.
   */
  createRepository(
    fullName: string,
    options: {
      readonly files?: ReadonlyMap<string, FileContent>;
      readonly ownerType?: 'User' | 'Organization';
      readonly installationId?: number;
      readonly fork?: boolean;
      readonly defaultBranch?: string;
    } = {},
  ): EmulatedRepository {
    const [owner, name] = fullName.split('/') as [string, string];
    const record: RepositoryRecord = {
      id: this.id(),
      owner: this.account(owner, options.ownerType ?? 'Organization'),
      name,
      fullName,
      defaultBranch: options.defaultBranch ?? 'main',
      fork: options.fork ?? false,
    };
    if (options.installationId !== undefined)
      this.installations.set(options.installationId, owner.toLowerCase());
    const state: RepoState = {
      record,
      refs: new Map(),
      pulls: new Map(),
      reviews: [],
      checkRuns: [],
      comments: [],
      deployments: [],
      reactions: new Map(),
      installationId: options.installationId,
      nextNumber: 1,
    };
    this.repos.set(fullName.toLowerCase(), state);
    const repo = new EmulatedRepository(this, state);
    if (options.files)
      repo.commit(record.defaultBranch, Object.fromEntries(options.files), 'Initial configuration');
    return repo;
  }

  /** A handle on a repository created before. */
  repository(fullName: string): EmulatedRepository {
    const state = this.repos.get(fullName.toLowerCase());
    if (!state) throw new Error(`no repository ${fullName}`);
    return new EmulatedRepository(this, state);
  }

  /**
   * Someone pressed "Create GitHub App" on GitHub's form for `manifest` (the JSON the form posted):
   * checks it as GitHub does and returns the code GitHub sends the browser back to `redirect_url` with.
   * The app it creates is the emulator's app (`credentials`), so its key and secret work afterwards.
   */
  acceptAppManifest(manifest: string, options: { readonly owner?: string } = {}): string {
    const parsed = JSON.parse(manifest) as Partial<AppManifestRecord>;
    const problems = [
      typeof parsed.name === 'string' && parsed.name !== '' ? undefined : 'name is missing',
      typeof parsed.url === 'string' ? undefined : 'url is missing',
      typeof parsed.hook_attributes?.url === 'string' ? undefined : 'hook_attributes.url is missing',
      typeof parsed.redirect_url === 'string' ? undefined : 'redirect_url is missing',
      Array.isArray(parsed.default_events) ? undefined : 'default_events is not a list',
      typeof parsed.default_permissions === 'object' ? undefined : 'default_permissions is not a map',
    ].filter((p): p is string => p !== undefined);
    if (problems.length > 0) throw new Error(`GitHub would refuse this manifest: ${problems.join('; ')}`);
    const code = randomBytes(10).toString('hex');
    const owner = options.owner ? this.account(options.owner, 'Organization') : this.app.owner;
    this.manifestCodes.set(code, { manifest: parsed as AppManifestRecord, owner });
    return code;
  }

  /** The next `times` requests matching `fault` get its answer instead of the real one. */
  failNext(fault: Fault): void {
    this.faults.push({ fault, remaining: fault.times ?? 1 });
  }

  /** Throws with every violation, so a test fails at the first request GitHub would not have taken. */
  assertNoViolations(): void {
    if (this.violations.length === 0) return;
    throw new Error(
      `the GitHub emulator saw ${this.violations.length} request(s) or response(s) outside GitHub's OpenAPI description:\n` +
        this.violations.map((v) => `- ${v.request}: ${v.problem}`).join('\n'),
    );
  }

  /** Requests whose method and path match, e.g. `requestsTo('PATCH', /check-runs\/\d+$/)`. */
  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path.split('?')[0] as string));
  }

  /** Answers one request. */
  handle(request: EmulatedRequest): EmulatedResponse {
    const url = new URL(request.url);
    const method = request.method.toUpperCase();
    const label = `${method} ${url.pathname}`;
    const match = this.spec.match(method, url.pathname);
    let response: EmulatedResponse;
    const fault = this.takeFault(method, url.pathname);
    if (fault) {
      response = {
        status: fault.status,
        headers: { ...JSON_HEADERS, ...fault.headers },
        body: fault.body ?? rest.basicError(fault.status, 'Server Error'),
      };
    } else if (!match) {
      this.violations.push({
        request: label,
        problem: 'no operation of GitHub REST API has this method and path',
      });
      response = this.error(404, 'Not Found');
    } else {
      const requestProblem = this.spec.checkRequest(match.operation, request.body);
      const route = this.routes.get(match.operation.operationId);
      if (requestProblem) {
        this.violations.push({
          request: label,
          problem: `${requestProblem.where}: ${requestProblem.errors}`,
        });
        response = this.error(422, `Invalid request: ${requestProblem.errors}`);
      } else if (!route) {
        this.violations.push({
          request: label,
          problem: `${match.operation.operationId} is a GitHub operation the emulator does not implement`,
        });
        response = this.error(501, 'Not implemented by the emulator');
      } else {
        response = this.route(route, match, url, request);
        this.checkResponse(label, match.operation, response);
      }
    }
    this.requests.push({
      method,
      path: `${url.pathname}${url.search}`,
      operationId: match?.operation.operationId,
      status: response.status,
      requestBody: request.body,
      responseBody: response.body,
    });
    return {
      ...response,
      headers: {
        'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4999',
        'x-ratelimit-used': '1',
        'x-ratelimit-resource': 'core',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
        ...response.headers,
      },
    };
  }

  // --- used by EmulatedRepository -------------------------------------------------------------

  /** A timestamp a second after the previous one, so events have a clear order. */
  now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  id(): number {
    return this.nextId++;
  }

  repositoryObject(state: RepoState): Record<string, unknown> {
    return rest.repository(this.repoExample(), state.record);
  }

  pullObject(pr: PullRecord): Record<string, unknown> {
    const example = this.spec.example(this.operation('GET', '/repos/o/r/pulls/1'), 200) as Record<
      string,
      unknown
    >;
    return rest.pullRequest(example, this.repoExample(), pr);
  }

  /** A pull request as the issue it also is, as `issue_comment` events carry it. */
  issueObject(pr: PullRecord): Record<string, unknown> {
    return rest.pullIssue(pr);
  }

  checkRunObject(state: RepoState, run: CheckRunRecord): Record<string, unknown> {
    return rest.checkRun(this.app, run, this.pullsWithHead(state, run.headSha));
  }

  event(
    state: RepoState,
    name: string,
    action: string | undefined,
    sender: Account,
    fields: Record<string, unknown>,
  ): WebhookEvent {
    const owner = state.record.owner;
    return webhookEvent(
      name,
      action,
      {
        repository: this.repositoryObject(state),
        sender,
        installationId: state.installationId,
        organization: owner.type === 'Organization' ? owner : undefined,
      },
      fields,
    );
  }

  // --- internals ------------------------------------------------------------------------------

  private repoExample(): Record<string, unknown> {
    const example = this.spec.example(this.operation('GET', '/repos/o/r/pulls/1'), 200) as {
      base: { repo: Record<string, unknown> };
    };
    return example.base.repo;
  }

  private operation(method: string, path: string): Operation {
    const found = this.spec.match(method, path);
    if (!found) throw new Error(`no operation ${method} ${path}`);
    return found.operation;
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const entry = this.faults.find(
      (f) => f.remaining > 0 && (!f.fault.method || f.fault.method === method) && f.fault.path.test(path),
    );
    if (!entry) return undefined;
    entry.remaining--;
    return entry.fault;
  }

  private route(
    route: Route,
    match: { operation: Operation; params: Record<string, string> },
    url: URL,
    request: EmulatedRequest,
  ): EmulatedResponse {
    const authorization = header(request.headers, 'authorization') ?? '';
    const [scheme, credential] = authorization.split(/\s+/, 2);
    let installationId: number | undefined;
    try {
      if (match.operation.operationId === 'apps/create-from-manifest') {
        // The manifest flow's code is the credential: no token, no JWT.
      } else if (APP_OPERATIONS.has(match.operation.operationId)) {
        if (scheme?.toLowerCase() !== 'bearer' || !credential)
          throw new HttpProblem(401, 'A JSON web token could not be decoded');
        const problem = verifyAppJwt(credential, this.credentials);
        if (problem) throw new HttpProblem(401, problem);
      } else {
        const token = credential ? this.tokens.get(credential) : undefined;
        if (!token || token.expiresAt < Date.now()) throw new HttpProblem(401, 'Bad credentials');
        installationId = token.installationId;
        this.checkAccess(match.params, installationId);
      }
      return route({
        params: match.params,
        query: url.searchParams,
        body: (request.body ?? {}) as Record<string, unknown>,
        url,
        installationId,
        operation: match.operation,
      });
    } catch (error) {
      if (error instanceof HttpProblem) return this.error(error.status, error.message);
      throw error;
    }
  }

  /** An installation sees the repositories and organisation of the account it is installed on. */
  private checkAccess(params: Readonly<Record<string, string>>, installationId: number): void {
    const account = this.installations.get(installationId);
    const owner = (params.owner ?? params.org)?.toLowerCase();
    if (owner !== undefined && owner !== account) throw new HttpProblem(404, 'Not Found');
  }

  private checkResponse(label: string, operation: Operation, response: EmulatedResponse): void {
    if (!this.spec.declares(operation, response.status)) {
      // GitHub answers 401 and similar on any operation whether or not the description lists them.
      if (response.status < 400) {
        this.violations.push({
          request: label,
          problem: `answered ${response.status}, which ${operation.operationId} does not declare`,
        });
      }
      return;
    }
    const problem = this.spec.checkResponse(operation, response.status, response.body);
    if (problem) this.violations.push({ request: label, problem: `${problem.where}: ${problem.errors}` });
  }

  private error(status: number, message: string): EmulatedResponse {
    return { status, headers: JSON_HEADERS, body: rest.basicError(status, message) };
  }

  private repo(params: Readonly<Record<string, string>>): RepoState {
    const state = this.repos.get(`${params.owner}/${params.repo}`.toLowerCase());
    if (!state) throw new HttpProblem(404, 'Not Found');
    return state;
  }

  private json(status: number, body: unknown, headers: Record<string, string> = {}): EmulatedResponse {
    return { status, headers: { ...JSON_HEADERS, ...headers }, body };
  }

  /** One page of a list, with GitHub's `link` header pointing at the next and last pages. */
  private page(context: RouteContext, items: readonly unknown[]): EmulatedResponse {
    const perPage = Math.min(100, Math.max(1, Number(context.query.get('per_page') ?? 30)));
    const page = Math.max(1, Number(context.query.get('page') ?? 1));
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const links: string[] = [];
    const link = (n: number, rel: string) => {
      const url = new URL(context.url);
      url.searchParams.set('per_page', String(perPage));
      url.searchParams.set('page', String(n));
      links.push(`<${url.toString()}>; rel="${rel}"`);
    };
    if (page < last) {
      link(page + 1, 'next');
      link(last, 'last');
    }
    if (page > 1) {
      link(1, 'first');
      link(page - 1, 'prev');
    }
    return this.json(
      200,
      items.slice((page - 1) * perPage, page * perPage),
      links.length > 0 ? { link: links.join(', ') } : {},
    );
  }

  private commitOrThrow(sha: string, status = 404): GitCommit {
    const object = this.objects.get(sha);
    if (object?.type !== 'commit')
      throw new HttpProblem(status, status === 422 ? `No commit found for SHA: ${sha}` : 'Not Found');
    return object;
  }

  private createRoutes(): Map<string, Route> {
    const routes = new Map<string, Route>();
    const on = (operationId: string, route: Route) => routes.set(operationId, route);

    on('apps/create-installation-access-token', ({ params }) => {
      const installationId = Number(params.installation_id);
      if (!this.installations.has(installationId)) throw new HttpProblem(404, 'Not Found');
      const token = `ghs_${randomBytes(18).toString('base64url')}`;
      const expiresAt = Date.now() + 3600_000;
      this.tokens.set(token, { installationId, expiresAt });
      return this.json(201, {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: {
          checks: 'write',
          contents: 'write',
          metadata: 'read',
          pull_requests: 'write',
          members: 'read',
          deployments: 'write',
          issues: 'write',
        },
        repository_selection: 'all',
      });
    });

    on('apps/get-authenticated', () => this.json(200, rest.app(this.app)));

    on('apps/get-repo-installation', ({ params }) => {
      const state = this.repo(params);
      if (state.installationId === undefined) throw new HttpProblem(404, 'Not Found');
      return this.json(200, rest.installation(this.app, state.installationId, state.record.owner));
    });

    on('apps/create-from-manifest', ({ params }) => {
      const registration = this.manifestCodes.get(params.code ?? '');
      if (!registration) throw new HttpProblem(404, 'Not Found');
      this.manifestCodes.delete(params.code ?? '');
      const { manifest, owner } = registration;
      const at = this.now();
      return this.json(201, {
        id: this.app.id,
        slug: this.app.slug,
        node_id: rest.nodeId('Integration', this.app.id),
        client_id: `Iv1.${randomBytes(8).toString('hex')}`,
        owner: rest.account(owner),
        name: manifest.name,
        description: manifest.description ?? null,
        external_url: manifest.url,
        html_url: `${rest.WEB}/apps/${this.app.slug}`,
        created_at: at,
        updated_at: at,
        permissions: manifest.default_permissions,
        events: manifest.default_events,
        client_secret: randomBytes(20).toString('hex'),
        webhook_secret: this.credentials.webhookSecret,
        pem: this.credentials.privateKey,
      });
    });

    on('pulls/get', ({ params }) => {
      const pr = this.repo(params).pulls.get(Number(params.pull_number));
      if (!pr) throw new HttpProblem(404, 'Not Found');
      return this.json(200, this.pullObject(pr));
    });

    on('pulls/list-files', (context) => {
      const state = this.repo(context.params);
      const pr = state.pulls.get(Number(context.params.pull_number));
      if (!pr) throw new HttpProblem(404, 'Not Found');
      // GitHub lists at most 3,000 files of a pull request.
      const files = changedFiles(this.objects, pr.baseSha, pr.headSha).slice(0, 3000);
      return this.page(
        context,
        files.map((file) => rest.diffEntry(state.record, pr.headSha, file)),
      );
    });

    on('pulls/list-reviews', (context) => {
      const state = this.repo(context.params);
      const number = Number(context.params.pull_number);
      const reviews = state.reviews.filter((r) => r.pull === number).map((r) => rest.review(state.record, r));
      return this.page(context, reviews);
    });

    on('checks/create', ({ params, body }) => {
      const state = this.repo(params);
      const headSha = String(body.head_sha);
      this.commitOrThrow(headSha, 422);
      const run: CheckRunRecord = {
        id: this.id(),
        repo: state.record,
        name: String(body.name),
        headSha,
        externalId: String(body.external_id ?? ''),
        status: 'queued',
        conclusion: null,
        startedAt: typeof body.started_at === 'string' ? body.started_at : this.now(),
        completedAt: null,
        output: { title: null, summary: null, text: null },
        annotations: [],
        detailsUrl: typeof body.details_url === 'string' ? body.details_url : null,
      };
      applyCheckRunUpdate(run, body, () => this.now());
      state.checkRuns.push(run);
      return this.json(201, rest.checkRun(this.app, run, this.pullsWithHead(state, headSha)));
    });

    on('checks/update', ({ params, body }) => {
      const state = this.repo(params);
      const run = state.checkRuns.find((r) => r.id === Number(params.check_run_id));
      if (!run) throw new HttpProblem(404, 'Not Found');
      applyCheckRunUpdate(run, body, () => this.now());
      return this.json(200, rest.checkRun(this.app, run, this.pullsWithHead(state, run.headSha)));
    });

    on('checks/list-for-ref', ({ params, query }) => {
      const state = this.repo(params);
      const sha = this.resolve(state, params.ref as string);
      let runs = state.checkRuns.filter((r) => r.headSha === sha);
      const name = query.get('check_name');
      if (name) runs = runs.filter((r) => r.name === name);
      if ((query.get('filter') ?? 'latest') === 'latest') {
        runs = runs.filter((r) => !runs.some((other) => other.name === r.name && other.id > r.id));
      }
      runs = [...runs].sort((a, b) => b.id - a.id);
      return this.json(200, {
        total_count: runs.length,
        check_runs: runs.map((r) => rest.checkRun(this.app, r, this.pullsWithHead(state, r.headSha))),
      });
    });

    on('issues/list-comments', (context) => {
      const state = this.repo(context.params);
      const number = Number(context.params.issue_number);
      if (!state.pulls.has(number)) throw new HttpProblem(404, 'Not Found');
      return this.page(context, state.comments.filter((c) => c.issue === number).map(rest.issueComment));
    });

    on('issues/create-comment', ({ params, body, installationId }) => {
      const state = this.repo(params);
      const number = Number(params.issue_number);
      if (!state.pulls.has(number)) throw new HttpProblem(404, 'Not Found');
      const text = String(body.body);
      if (text.length > 65536) throw new HttpProblem(422, 'Body is too long (maximum is 65536 characters)');
      const at = this.now();
      const comment: CommentRecord = {
        id: this.id(),
        repo: state.record,
        issue: number,
        user: installationId === undefined ? this.account('someone') : this.bot,
        body: text,
        createdAt: at,
        updatedAt: at,
      };
      state.comments.push(comment);
      return this.json(201, rest.issueComment(comment));
    });

    on('issues/update-comment', ({ params, body }) => {
      const state = this.repo(params);
      const comment = state.comments.find((c) => c.id === Number(params.comment_id));
      if (!comment) throw new HttpProblem(404, 'Not Found');
      // An installation can edit only what it wrote.
      if (comment.user !== this.bot) throw new HttpProblem(403, 'Resource not accessible by integration');
      const text = String(body.body);
      if (text.length > 65536) throw new HttpProblem(422, 'Body is too long (maximum is 65536 characters)');
      comment.body = text;
      comment.updatedAt = this.now();
      return this.json(200, rest.issueComment(comment));
    });

    on('reactions/create-for-issue-comment', ({ params, body }) => {
      const state = this.repo(params);
      const id = Number(params.comment_id);
      if (!state.comments.some((c) => c.id === id)) throw new HttpProblem(404, 'Not Found');
      const content = String(body.content);
      const mine = state.reactions.get(id) ?? new Set<string>();
      state.reactions.set(id, mine);
      // GitHub answers 200 with the existing reaction when the author already reacted so.
      const again = mine.has(content);
      mine.add(content);
      return this.json(again ? 200 : 201, rest.reaction(this.id(), this.bot, content, this.now()));
    });

    on('repos/create-deployment', ({ params, body, installationId }) => {
      const state = this.repo(params);
      const ref = String(body.ref);
      const sha = this.resolve(state, ref);
      this.commitOrThrow(sha, 422);
      if (body.auto_merge !== false || !Array.isArray(body.required_contexts))
        // The emulator merges nothing and runs no status checks: a caller must ask for neither.
        throw new HttpProblem(
          409,
          'Conflict: the emulator only creates deployments without auto_merge and required_contexts',
        );
      const record: DeploymentRecord = {
        id: this.id(),
        repo: state.record,
        sha,
        ref,
        task: typeof body.task === 'string' ? body.task : 'deploy',
        environment: typeof body.environment === 'string' ? body.environment : 'production',
        description: typeof body.description === 'string' ? body.description : '',
        payload:
          typeof body.payload === 'object' && body.payload !== null
            ? (body.payload as Record<string, unknown>)
            : {},
        creator: installationId === undefined ? this.account('someone') : this.bot,
        createdAt: this.now(),
        statuses: [],
      };
      state.deployments.push(record);
      return this.json(201, rest.deployment(record));
    });

    on('repos/list-deployments', (context) => {
      const { params, query } = context;
      const state = this.repo(params);
      const matches = state.deployments
        .filter(
          (d) =>
            (!query.get('sha') || d.sha === query.get('sha')) &&
            (!query.get('ref') || d.ref === query.get('ref')) &&
            (!query.get('task') || d.task === query.get('task')) &&
            (!query.get('environment') || d.environment === query.get('environment')),
        )
        .sort((a, b) => b.id - a.id);
      return this.page(context, matches.map(rest.deployment));
    });

    on('repos/create-deployment-status', ({ params, body }) => {
      const state = this.repo(params);
      const record = state.deployments.find((d) => d.id === Number(params.deployment_id));
      if (!record) throw new HttpProblem(404, 'Not Found');
      const description = typeof body.description === 'string' ? body.description : '';
      if (description.length > 140)
        throw new HttpProblem(422, 'description is too long (maximum is 140 characters)');
      const status = { id: this.id(), state: String(body.state), description, createdAt: this.now() };
      record.statuses.push(status);
      // GitHub marks older deployments of the environment inactive on success unless told not to.
      if (status.state === 'success' && body.auto_inactive !== false)
        for (const other of state.deployments)
          if (
            other !== record &&
            other.environment === record.environment &&
            other.statuses.at(-1)?.state === 'success'
          )
            other.statuses.push({ id: this.id(), state: 'inactive', description: '', createdAt: this.now() });
      return this.json(201, rest.deploymentStatus(record, status));
    });

    on('repos/list-deployment-statuses', (context) => {
      const state = this.repo(context.params);
      const record = state.deployments.find((d) => d.id === Number(context.params.deployment_id));
      if (!record) throw new HttpProblem(404, 'Not Found');
      return this.page(
        context,
        [...record.statuses].reverse().map((status) => rest.deploymentStatus(record, status)),
      );
    });

    on('git/get-tree', ({ params, query }) => {
      const state = this.repo(params);
      const sha = this.resolve(state, params.tree_sha as string);
      const tree = this.objects.treeOf(sha);
      if (!tree) throw new HttpProblem(404, 'Not Found');
      const recursive = query.has('recursive');
      const entries = this.objects.list(tree.sha, recursive);
      const truncated = entries.length > this.treeEntryLimit;
      return this.json(
        200,
        rest.gitTree(state.record, tree.sha, entries.slice(0, this.treeEntryLimit), truncated),
      );
    });

    on('git/get-blob', ({ params }) => {
      const state = this.repo(params);
      const blob = this.objects.get(params.file_sha as string);
      if (blob?.type !== 'blob') throw new HttpProblem(404, 'Not Found');
      return this.json(200, rest.gitBlob(state.record, blob.sha, blob.bytes));
    });

    on('git/create-blob', ({ params, body }) => {
      const state = this.repo(params);
      const encoding = body.encoding === 'base64' ? 'base64' : 'utf8';
      const blob = this.objects.writeBlob(new Uint8Array(Buffer.from(String(body.content), encoding)));
      return this.json(201, {
        url: `${rest.API}/repos/${state.record.fullName}/git/blobs/${blob.sha}`,
        sha: blob.sha,
      });
    });

    on('git/create-tree', ({ params, body }) => {
      const state = this.repo(params);
      const baseTree = typeof body.base_tree === 'string' ? body.base_tree : undefined;
      if (baseTree && !this.objects.treeOf(baseTree))
        throw new HttpProblem(422, 'base_tree is not a valid tree oid');
      const entries = (
        body.tree as { path: string; mode: string; sha?: string | null; content?: string }[]
      ).map((entry) => {
        const sha =
          entry.content !== undefined ? this.objects.writeBlob(entry.content).sha : (entry.sha ?? null);
        if (sha !== null && !this.objects.get(sha))
          throw new HttpProblem(422, `tree.sha ${sha} is not a valid blob`);
        return { path: entry.path, mode: entry.mode, sha };
      });
      const tree = this.objects.writeTreeOnBase(baseTree, entries);
      return this.json(201, rest.gitTree(state.record, tree.sha, this.objects.list(tree.sha, false), false));
    });

    on('git/create-commit', ({ params, body }) => {
      const state = this.repo(params);
      const tree = String(body.tree);
      if (this.objects.get(tree)?.type !== 'tree') throw new HttpProblem(422, 'Tree SHA does not exist');
      const parents = ((body.parents as string[] | undefined) ?? []).map(
        (p) => this.commitOrThrow(p, 422).sha,
      );
      const at = this.now();
      const signature = {
        name: this.bot.login,
        email: `${this.bot.id}+${this.bot.login}@users.noreply.github.com`,
        date: at,
      };
      const commit = this.objects.writeCommit({
        tree,
        parents,
        message: String(body.message),
        author: (body.author as typeof signature | undefined) ?? signature,
        committer: (body.committer as typeof signature | undefined) ?? signature,
      });
      return this.json(201, rest.gitCommit(state.record, commit));
    });

    on('git/get-commit', ({ params }) => {
      const state = this.repo(params);
      return this.json(200, rest.gitCommit(state.record, this.commitOrThrow(params.commit_sha as string)));
    });

    on('git/get-ref', ({ params }) => {
      const state = this.repo(params);
      const ref = `refs/${params.ref}`;
      const sha = state.refs.get(ref);
      if (!sha) throw new HttpProblem(404, 'Not Found');
      return this.json(200, rest.gitRef(state.record, ref, sha));
    });

    on('git/create-ref', ({ params, body }) => {
      const state = this.repo(params);
      const ref = String(body.ref);
      if (!/^refs\/[^/]+\/.+/.test(ref))
        throw new HttpProblem(422, 'Reference name must start with refs/ and have at least two slashes');
      if (state.refs.has(ref)) throw new HttpProblem(422, 'Reference already exists');
      const sha = this.commitOrThrow(String(body.sha), 422).sha;
      state.refs.set(ref, sha);
      return this.json(201, rest.gitRef(state.record, ref, sha));
    });

    on('git/update-ref', ({ params, body }) => {
      const state = this.repo(params);
      const ref = `refs/${params.ref}`;
      const current = state.refs.get(ref);
      if (!current) throw new HttpProblem(422, 'Reference does not exist');
      const sha = this.commitOrThrow(String(body.sha), 422).sha;
      if (body.force !== true && !this.objects.isAncestor(current, sha))
        throw new HttpProblem(422, 'Update is not a fast forward');
      state.refs.set(ref, sha);
      return this.json(200, rest.gitRef(state.record, ref, sha));
    });

    on('teams/get-membership-for-user-in-org', ({ params }) => {
      const members = this.teams.get((params.org as string).toLowerCase())?.get(params.team_slug as string);
      if (!members?.has((params.username as string).toLowerCase())) throw new HttpProblem(404, 'Not Found');
      return this.json(200, {
        url: `${rest.API}/organizations/${this.account(params.org as string).id}/team/1/memberships/${params.username}`,
        role: 'member',
        state: 'active',
      });
    });

    return routes;
  }

  /** A sha, or a branch name, to the commit it names. */
  private resolve(state: RepoState, ref: string): string {
    return state.refs.get(`refs/heads/${ref}`) ?? ref;
  }

  /** Pull requests a check run lists: open ones with that head, never those from forks (as on GitHub). */
  private pullsWithHead(state: RepoState, sha: string): PullRecord[] {
    return [...state.pulls.values()].filter(
      (pr) => pr.headSha === sha && pr.state === 'open' && !pr.head.fork,
    );
  }
}

function applyCheckRunUpdate(run: CheckRunRecord, body: Record<string, unknown>, now: () => string): void {
  if (typeof body.external_id === 'string') run.externalId = body.external_id;
  if (typeof body.details_url === 'string') run.detailsUrl = body.details_url;
  if (typeof body.status === 'string') run.status = body.status as CheckRunRecord['status'];
  if (typeof body.conclusion === 'string') {
    run.conclusion = body.conclusion;
    run.status = 'completed';
  }
  if (run.status === 'completed')
    run.completedAt = typeof body.completed_at === 'string' ? body.completed_at : now();
  const output = body.output as
    | { title?: string; summary?: string; text?: string; annotations?: Record<string, unknown>[] }
    | undefined;
  if (output) {
    if (output.title !== undefined) run.output.title = output.title;
    if (output.summary !== undefined) run.output.summary = output.summary;
    if (output.text !== undefined) run.output.text = output.text;
    // Each update appends its annotations to those already there.
    run.annotations.push(...(output.annotations ?? []));
  }
}

/** The files that differ between two commits, as `GET /pulls/{n}/files` lists them. */
export function changedFiles(objects: GitObjectStore, baseSha: string, headSha: string) {
  const before = objects.files(baseSha);
  const after = objects.files(headSha);
  const lines = (bytes: Uint8Array | undefined) =>
    bytes ? Buffer.from(bytes).toString('utf8').split('\n').length : 0;
  const out: {
    path: string;
    status: 'added' | 'removed' | 'modified';
    sha: string;
    additions: number;
    deletions: number;
  }[] = [];
  const sha = (bytes: Uint8Array) => objects.writeBlob(bytes).sha;
  for (const path of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const a = before.get(path);
    const b = after.get(path);
    if (a && b) {
      if (!Buffer.from(a).equals(b))
        out.push({ path, status: 'modified', sha: sha(b), additions: lines(b), deletions: lines(a) });
    } else if (b) out.push({ path, status: 'added', sha: sha(b), additions: lines(b), deletions: 0 });
    else if (a) out.push({ path, status: 'removed', sha: sha(a), additions: 0, deletions: lines(a) });
  }
  return out;
}

function header(headers: EmulatedRequest['headers'], name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

/** A repository of the emulator, as a test drives it: commits, pull requests, reviews, merges. */
export class EmulatedRepository {
  constructor(
    private readonly github: GitHubEmulator,
    private readonly state: RepoState,
  ) {}

  get fullName(): string {
    return this.state.record.fullName;
  }

  get record(): RepositoryRecord {
    return this.state.record;
  }

  /** The commit a branch (or any ref under refs/) points at. */
  ref(name: string): string | undefined {
    return this.state.refs.get(name.startsWith('refs/') ? name : `refs/heads/${name}`);
  }

  /**
   * Commits `changes` (path → content, or null to delete) on top of `branch`, creating the branch from
   * `from` (default branch) when it does not exist yet. Returns the new commit's sha.
   */
  commit(
    branch: string,
    changes: Readonly<Record<string, FileContent | null>>,
    message: string,
    options: { from?: string; author?: string } = {},
  ): string {
    const ref = `refs/heads/${branch}`;
    const parent = this.state.refs.get(ref) ?? this.ref(options.from ?? this.state.record.defaultBranch);
    const entries = Object.entries(changes).map(([path, content]) => ({
      path,
      mode: '100644',
      sha: content === null ? null : this.github.objects.writeBlob(content).sha,
    }));
    const base = parent ? (this.github.objects.get(parent) as GitCommit).tree : undefined;
    const tree = this.github.objects.writeTreeOnBase(base, entries);
    const at = this.github.now();
    const who = options.author ?? 'Cairn Test';
    const signature = { name: who, email: `${who.replaceAll(' ', '.').toLowerCase()}@example.com`, date: at };
    const commit = this.github.objects.writeCommit({
      tree: tree.sha,
      parents: parent ? [parent] : [],
      message,
      author: signature,
      committer: signature,
    });
    this.state.refs.set(ref, commit.sha);
    return commit.sha;
  }

  /** Opens a pull request from `head` (a branch of this repository, or of `fork`) into `base`. */
  openPullRequest(options: {
    readonly head: string;
    readonly base?: string;
    readonly author: string;
    readonly title?: string;
    readonly fork?: EmulatedRepository;
  }): { number: number; event: WebhookEvent } {
    const headRepo = options.fork ?? this;
    const headSha = headRepo.ref(options.head);
    const baseRef = options.base ?? this.state.record.defaultBranch;
    const baseSha = this.ref(baseRef);
    if (!headSha || !baseSha) throw new Error(`no branch ${options.head} or ${baseRef}`);
    const at = this.github.now();
    const number = this.state.nextNumber++;
    const pr: PullRecord = {
      id: this.github.id(),
      number,
      title: options.title ?? `Change ${options.head}`,
      author: this.github.account(options.author),
      base: this.state.record,
      head: headRepo.record,
      headRef: options.head,
      baseRef,
      headSha,
      baseSha,
      state: 'open',
      merged: false,
      mergeCommitSha: null,
      mergedBy: null,
      createdAt: at,
      updatedAt: at,
      closedAt: null,
      mergedAt: null,
      changedFiles: 0,
      additions: 0,
      deletions: 0,
      commits: 1,
    };
    this.refreshCounts(pr);
    this.state.pulls.set(number, pr);
    // GitHub keeps every pull request's head in the base repository, forks included.
    this.state.refs.set(`refs/pull/${number}/head`, headSha);
    return { number, event: this.pullEvent(pr, 'opened', pr.author) };
  }

  /** Pushes a commit to a pull request's head branch: `pull_request.synchronize`. */
  push(
    number: number,
    changes: Readonly<Record<string, FileContent | null>>,
    message = 'Update',
  ): { sha: string; event: WebhookEvent } {
    const pr = this.pull(number);
    const headRepo = pr.head.fullName === this.fullName ? this : this.github.repository(pr.head.fullName);
    const before = pr.headSha;
    const sha = headRepo.commit(pr.headRef, changes, message);
    pr.headSha = sha;
    pr.updatedAt = this.github.now();
    pr.commits++;
    this.refreshCounts(pr);
    this.state.refs.set(`refs/pull/${number}/head`, sha);
    return { sha, event: this.pullEvent(pr, 'synchronize', pr.author, { before, after: sha }) };
  }

  /**
   * Rebases a pull request onto the tip of its base branch and force-pushes it, as `git rebase` and
   * `git push --force` would: one new commit on that tip with the pull request's changes
   * (`pull_request.synchronize`). When the base has not moved, the new head has the old head's tree.
   */
  rebase(number: number, message = 'Rebased'): { sha: string; event: WebhookEvent } {
    const pr = this.pull(number);
    const headRepo = pr.head.fullName === this.fullName ? this : this.github.repository(pr.head.fullName);
    const onto = this.ref(pr.baseRef) as string;
    const changes = changedFiles(this.github.objects, pr.baseSha, pr.headSha).map((file) => ({
      path: file.path,
      mode: '100644',
      sha: file.status === 'removed' ? null : file.sha,
    }));
    const tree = this.github.objects.writeTreeOnBase(
      (this.github.objects.get(onto) as GitCommit).tree,
      changes,
    );
    const at = this.github.now();
    const signature = { name: pr.author.login, email: `${pr.author.login}@example.com`, date: at };
    const commit = this.github.objects.writeCommit({
      tree: tree.sha,
      parents: [onto],
      message,
      author: signature,
      committer: signature,
    });
    const before = pr.headSha;
    headRepo.setRef(`refs/heads/${pr.headRef}`, commit.sha);
    Object.assign(pr, { headSha: commit.sha, baseSha: onto, updatedAt: at, commits: 1 });
    this.refreshCounts(pr);
    this.state.refs.set(`refs/pull/${number}/head`, commit.sha);
    return {
      sha: commit.sha,
      event: this.pullEvent(pr, 'synchronize', pr.author, { before, after: commit.sha }),
    };
  }

  /** A review; by default an approval of the current head. */
  review(
    number: number,
    options: { readonly user: string; readonly state?: ReviewRecord['state']; readonly commitId?: string },
  ): { id: number; event: WebhookEvent } {
    const pr = this.pull(number);
    const record: ReviewRecord = {
      id: this.github.id(),
      pull: number,
      user: this.github.account(options.user),
      state: options.state ?? 'APPROVED',
      body: options.state === 'CHANGES_REQUESTED' ? 'Please change this.' : 'Looks right.',
      commitId: options.commitId ?? pr.headSha,
      submittedAt: this.github.now(),
    };
    this.state.reviews.push(record);
    return { id: record.id, event: this.reviewEvent(pr, record, 'submitted', record.user) };
  }

  /** Dismisses a review: its state becomes DISMISSED, as on GitHub. */
  dismissReview(number: number, reviewId: number, by: string): WebhookEvent {
    const pr = this.pull(number);
    const record = this.state.reviews.find((r) => r.id === reviewId);
    if (!record) throw new Error(`no review ${reviewId}`);
    record.state = 'DISMISSED';
    return this.reviewEvent(pr, record, 'dismissed', this.github.account(by));
  }

  /** Merges a pull request with a merge commit on the base branch: `pull_request.closed`, merged. */
  merge(number: number, options: { readonly by: string }): { sha: string; event: WebhookEvent } {
    const pr = this.pull(number);
    const baseTip = this.ref(pr.baseRef) as string;
    const head = this.github.objects.get(pr.headSha) as GitCommit;
    const at = this.github.now();
    const by = this.github.account(options.by);
    const signature = { name: by.login, email: `${by.login}@example.com`, date: at };
    const merge = this.github.objects.writeCommit({
      tree: head.tree,
      parents: [baseTip, pr.headSha],
      message: `Merge pull request #${number} from ${pr.head.owner.login}/${pr.headRef}\n\n${pr.title}`,
      author: signature,
      committer: signature,
    });
    this.state.refs.set(`refs/heads/${pr.baseRef}`, merge.sha);
    Object.assign(pr, {
      state: 'closed',
      merged: true,
      mergeCommitSha: merge.sha,
      mergedBy: by,
      mergedAt: at,
      closedAt: at,
      updatedAt: at,
    });
    return { sha: merge.sha, event: this.pullEvent(pr, 'closed', by) };
  }

  /** Any other event about this repository, e.g. one the app does not subscribe to. */
  event(
    name: string,
    action: string | undefined,
    sender: string,
    fields: Record<string, unknown> = {},
  ): WebhookEvent {
    return this.github.event(this.state, name, action, this.github.account(sender), fields);
  }

  /** Someone pressed "Re-run" on a check run: `check_run.rerequested`, sent to the app that made it. */
  rerequestCheckRun(id: number, by: string): WebhookEvent {
    const run = this.state.checkRuns.find((r) => r.id === id);
    if (!run) throw new Error(`no check run ${id}`);
    return this.github.event(this.state, 'check_run', 'rerequested', this.github.account(by), {
      check_run: this.github.checkRunObject(this.state, run),
    });
  }

  /** Closes a pull request without merging it: `pull_request.closed`, not merged. */
  close(number: number, options: { readonly by: string }): WebhookEvent {
    const pr = this.pull(number);
    const at = this.github.now();
    Object.assign(pr, { state: 'closed', closedAt: at, updatedAt: at });
    return this.pullEvent(pr, 'closed', this.github.account(options.by));
  }

  /** The pull request as the REST API returns it. */
  pullObject(number: number): Record<string, unknown> {
    return this.github.pullObject(this.pull(number));
  }

  checkRuns(filter: { readonly name?: string; readonly headSha?: string } = {}): readonly CheckRunRecord[] {
    return this.state.checkRuns.filter(
      (r) => (!filter.name || r.name === filter.name) && (!filter.headSha || r.headSha === filter.headSha),
    );
  }

  /** The most recent run of a check on a commit: what GitHub's merge box shows. */
  latestCheckRun(name: string, headSha: string): CheckRunRecord | undefined {
    return this.checkRuns({ name, headSha }).at(-1);
  }

  comments(number: number): readonly CommentRecord[] {
    return this.state.comments.filter((c) => c.issue === number);
  }

  /**
   * Posts a comment as a person (e.g. one that quotes the bot's marker), or as another app's bot
   * account; returns the `issue_comment.created` event GitHub sends.
   */
  comment(number: number, user: string, body: string, type: 'User' | 'Bot' = 'User'): WebhookEvent {
    const pr = this.pull(number);
    const at = this.github.now();
    const comment: CommentRecord = {
      id: this.github.id(),
      repo: this.state.record,
      issue: number,
      user: this.github.account(user, type),
      body,
      createdAt: at,
      updatedAt: at,
    };
    this.state.comments.push(comment);
    return this.github.event(this.state, 'issue_comment', 'created', comment.user, {
      issue: this.github.issueObject(pr),
      comment: rest.issueComment(comment),
    });
  }

  /** The deployments made on this repository, oldest first, each with its statuses (oldest first). */
  deployments(filter: { readonly environment?: string } = {}): readonly DeploymentRecord[] {
    return this.state.deployments.filter((d) => !filter.environment || d.environment === filter.environment);
  }

  /** The reactions on a comment (by the app's bot account, the only one reacting here). */
  reactions(commentId: number): readonly string[] {
    return [...(this.state.reactions.get(commentId) ?? [])];
  }

  /** The git note on `commit` under `ref`, as `git notes --ref show` would print it. */
  note(ref: string, commit: string): string | undefined {
    const notesCommit = this.state.refs.get(ref);
    if (!notesCommit) return undefined;
    const files = this.github.objects.files(notesCommit);
    const bytes = files.get(commit) ?? files.get(`${commit.slice(0, 2)}/${commit.slice(2)}`);
    return bytes ? Buffer.from(bytes).toString('utf8') : undefined;
  }

  /** Moves a ref directly, as another writer racing the bot would. */
  setRef(ref: string, sha: string): void {
    this.state.refs.set(ref, sha);
  }

  private pull(number: number): PullRecord {
    const pr = this.state.pulls.get(number);
    if (!pr) throw new Error(`no pull request #${number} in ${this.fullName}`);
    return pr;
  }

  private refreshCounts(pr: PullRecord): void {
    const files = changedFiles(this.github.objects, pr.baseSha, pr.headSha);
    pr.changedFiles = files.length;
    pr.additions = files.reduce((sum, f) => sum + f.additions, 0);
    pr.deletions = files.reduce((sum, f) => sum + f.deletions, 0);
  }

  private pullEvent(
    pr: PullRecord,
    action: string,
    sender: Account,
    fields: Record<string, unknown> = {},
  ): WebhookEvent {
    return this.github.event(this.state, 'pull_request', action, sender, {
      number: pr.number,
      pull_request: this.github.pullObject(pr),
      ...fields,
    });
  }

  private reviewEvent(pr: PullRecord, record: ReviewRecord, action: string, sender: Account): WebhookEvent {
    const review = rest.review(this.state.record, record);
    return this.github.event(this.state, 'pull_request_review', action, sender, {
      review: { ...review, state: record.state.toLowerCase() },
      pull_request: this.github.pullObject(pr),
    });
  }
}
