import type { GitCommit, ListedEntry } from './git-objects.js';

/**
 * The emulator's answers, shaped as GitHub's REST API shapes them (every field the OpenAPI description
 * requires, with realistic values), built from the emulator's state. Each builder is checked against
 * the description on every response, so a missing field fails the test that provoked it.
 */

export const API = 'https://api.github.com';
export const WEB = 'https://github.com';

export interface Account {
  readonly login: string;
  readonly id: number;
  readonly type: 'User' | 'Organization' | 'Bot';
}

export interface RepositoryRecord {
  readonly id: number;
  readonly owner: Account;
  readonly name: string;
  readonly fullName: string;
  readonly defaultBranch: string;
  readonly fork: boolean;
}

export interface PullRecord {
  readonly id: number;
  readonly number: number;
  title: string;
  readonly author: Account;
  readonly base: RepositoryRecord;
  readonly head: RepositoryRecord;
  readonly headRef: string;
  readonly baseRef: string;
  headSha: string;
  baseSha: string;
  state: 'open' | 'closed';
  merged: boolean;
  mergeCommitSha: string | null;
  mergedBy: Account | null;
  readonly createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  changedFiles: number;
  additions: number;
  deletions: number;
  commits: number;
}

export interface ReviewRecord {
  readonly id: number;
  readonly pull: number;
  readonly user: Account;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  readonly body: string;
  readonly commitId: string;
  readonly submittedAt: string;
}

export interface CheckRunRecord {
  readonly id: number;
  readonly repo: RepositoryRecord;
  readonly name: string;
  readonly headSha: string;
  externalId: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  startedAt: string;
  completedAt: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  readonly annotations: Record<string, unknown>[];
  detailsUrl: string | null;
}

export interface CommentRecord {
  readonly id: number;
  readonly repo: RepositoryRecord;
  readonly issue: number;
  readonly user: Account;
  body: string;
  readonly createdAt: string;
  updatedAt: string;
}

export interface DeploymentStatusRecord {
  readonly id: number;
  readonly state: string;
  readonly description: string;
  readonly createdAt: string;
}

export interface DeploymentRecord {
  readonly id: number;
  readonly repo: RepositoryRecord;
  readonly sha: string;
  readonly ref: string;
  readonly task: string;
  readonly environment: string;
  readonly description: string;
  readonly payload: Record<string, unknown>;
  readonly creator: Account;
  readonly createdAt: string;
  /** Oldest first. */
  readonly statuses: DeploymentStatusRecord[];
}

export interface AppRecord {
  readonly id: number;
  readonly slug: string;
  readonly owner: Account;
}

export function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`0:${kind}${id}`).toString('base64');
}

export function account(user: Account) {
  const path = user.type === 'Organization' ? 'orgs' : 'users';
  // GitHub escapes the brackets of bot logins (`cairn[bot]`) in URLs.
  const login = encodeURIComponent(user.login);
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId(user.type, user.id),
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: '',
    url: `${API}/${path}/${login}`,
    html_url: `${WEB}/${login}`,
    followers_url: `${API}/users/${login}/followers`,
    following_url: `${API}/users/${login}/following{/other_user}`,
    gists_url: `${API}/users/${login}/gists{/gist_id}`,
    starred_url: `${API}/users/${login}/starred{/owner}{/repo}`,
    subscriptions_url: `${API}/users/${login}/subscriptions`,
    organizations_url: `${API}/users/${login}/orgs`,
    repos_url: `${API}/${path}/${login}/repos`,
    events_url: `${API}/users/${login}/events{/privacy}`,
    received_events_url: `${API}/users/${login}/received_events`,
    type: user.type,
    site_admin: false,
    user_view_type: 'public',
  };
}

/** A repository object; built from the description's example so every URL template is there. */
export function repository(example: Record<string, unknown>, repo: RepositoryRecord) {
  const rewritten = JSON.parse(
    JSON.stringify(example).replaceAll('octocat/Hello-World', repo.fullName),
  ) as Record<string, unknown>;
  return {
    ...rewritten,
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: repo.fullName,
    owner: account(repo.owner),
    private: true,
    fork: repo.fork,
    default_branch: repo.defaultBranch,
    description: 'Configuration and releases',
    homepage: null,
    language: null,
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    open_issues_count: 0,
    topics: [],
    visibility: 'private',
    created_at: '2024-01-08T09:00:00Z',
    updated_at: '2024-12-09T09:00:00Z',
    pushed_at: '2024-12-09T09:00:00Z',
  };
}

export function pullRequest(
  example: Record<string, unknown>,
  repoExample: Record<string, unknown>,
  pr: PullRecord,
) {
  const base = `${API}/repos/${pr.base.fullName}`;
  const html = `${WEB}/${pr.base.fullName}/pull/${pr.number}`;
  return {
    ...example,
    url: `${base}/pulls/${pr.number}`,
    id: pr.id,
    node_id: nodeId('PullRequest', pr.id),
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: `${base}/issues/${pr.number}`,
    commits_url: `${base}/pulls/${pr.number}/commits`,
    review_comments_url: `${base}/pulls/${pr.number}/comments`,
    review_comment_url: `${base}/pulls/comments{/number}`,
    comments_url: `${base}/issues/${pr.number}/comments`,
    statuses_url: `${base}/statuses/${pr.headSha}`,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user: account(pr.author),
    body: 'Configuration change.',
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    merged_at: pr.mergedAt,
    merge_commit_sha: pr.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: {
      label: `${pr.head.owner.login}:${pr.headRef}`,
      ref: pr.headRef,
      sha: pr.headSha,
      user: account(pr.head.owner),
      repo: repository(repoExample, pr.head),
    },
    base: {
      label: `${pr.base.owner.login}:${pr.baseRef}`,
      ref: pr.baseRef,
      sha: pr.baseSha,
      user: account(pr.base.owner),
      repo: repository(repoExample, pr.base),
    },
    _links: {
      self: { href: `${base}/pulls/${pr.number}` },
      html: { href: html },
      issue: { href: `${base}/issues/${pr.number}` },
      comments: { href: `${base}/issues/${pr.number}/comments` },
      review_comments: { href: `${base}/pulls/${pr.number}/comments` },
      review_comment: { href: `${base}/pulls/comments{/number}` },
      commits: { href: `${base}/pulls/${pr.number}/commits` },
      statuses: { href: `${base}/statuses/${pr.headSha}` },
    },
    author_association: 'MEMBER',
    auto_merge: null,
    draft: false,
    merged: pr.merged,
    mergeable: pr.state === 'open' ? true : null,
    rebaseable: pr.state === 'open' ? true : null,
    mergeable_state: pr.state === 'open' ? 'clean' : 'unknown',
    merged_by: pr.mergedBy ? account(pr.mergedBy) : null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: pr.commits,
    additions: pr.additions,
    deletions: pr.deletions,
    changed_files: pr.changedFiles,
  };
}

export function review(repo: RepositoryRecord, record: ReviewRecord) {
  const html = `${WEB}/${repo.fullName}/pull/${record.pull}#pullrequestreview-${record.id}`;
  const pull = `${API}/repos/${repo.fullName}/pulls/${record.pull}`;
  return {
    id: record.id,
    node_id: nodeId('PullRequestReview', record.id),
    user: account(record.user),
    body: record.body,
    state: record.state,
    html_url: html,
    pull_request_url: pull,
    _links: { html: { href: html }, pull_request: { href: pull } },
    submitted_at: record.submittedAt,
    commit_id: record.commitId,
    author_association: 'MEMBER',
  };
}

export function diffEntry(
  repo: RepositoryRecord,
  headSha: string,
  file: {
    path: string;
    status: 'added' | 'removed' | 'modified';
    sha: string;
    additions: number;
    deletions: number;
  },
) {
  return {
    sha: file.sha,
    filename: file.path,
    status: file.status,
    additions: file.additions,
    deletions: file.deletions,
    changes: file.additions + file.deletions,
    blob_url: `${WEB}/${repo.fullName}/blob/${headSha}/${file.path}`,
    raw_url: `${WEB}/${repo.fullName}/raw/${headSha}/${file.path}`,
    contents_url: `${API}/repos/${repo.fullName}/contents/${file.path}?ref=${headSha}`,
  };
}

export function checkRun(app: AppRecord, run: CheckRunRecord, pulls: readonly PullRecord[]) {
  const base = `${API}/repos/${run.repo.fullName}`;
  return {
    id: run.id,
    head_sha: run.headSha,
    node_id: nodeId('CheckRun', run.id),
    external_id: run.externalId,
    url: `${base}/check-runs/${run.id}`,
    html_url: `${WEB}/${run.repo.fullName}/runs/${run.id}`,
    details_url: run.detailsUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.output.title,
      summary: run.output.summary,
      text: run.output.text,
      annotations_count: run.annotations.length,
      annotations_url: `${base}/check-runs/${run.id}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.id + 100_000 },
    app: appObject(app),
    pull_requests: pulls.map((pr) => ({
      url: `${base}/pulls/${pr.number}`,
      id: pr.id,
      number: pr.number,
      head: {
        ref: pr.headRef,
        sha: pr.headSha,
        repo: { id: pr.head.id, url: `${API}/repos/${pr.head.fullName}`, name: pr.head.name },
      },
      base: {
        ref: pr.baseRef,
        sha: pr.baseSha,
        repo: { id: pr.base.id, url: `${API}/repos/${pr.base.fullName}`, name: pr.base.name },
      },
    })),
  };
}

/** The app as GitHub describes it to itself (`GET /app`), and in the check runs it made. */
export function app(record: AppRecord) {
  return { ...appObject(record), installations_count: 1 };
}

/** The app's Integration object, with the permissions and events bot/app.yml asks for. */
function appObject(record: AppRecord) {
  return {
    id: record.id,
    slug: record.slug,
    node_id: nodeId('Integration', record.id),
    client_id: `Iv1.${record.slug}`,
    owner: account(record.owner),
    name: record.slug,
    description: 'Checks configuration changes and plans what they change in ZooKeeper',
    external_url: `${WEB}/${record.owner.login}`,
    html_url: `${WEB}/apps/${record.slug}`,
    created_at: '2024-01-08T09:00:00Z',
    updated_at: '2024-01-08T09:00:00Z',
    permissions: {
      checks: 'write',
      contents: 'write',
      metadata: 'read',
      pull_requests: 'write',
      members: 'read',
      deployments: 'write',
      issues: 'write',
    },
    events: ['pull_request', 'pull_request_review', 'check_run', 'issue_comment'],
  };
}

/** The app's installation on an account (`GET /repos/{owner}/{repo}/installation`). */
export function installation(app: AppRecord, id: number, target: Account) {
  return {
    id,
    account: account(target),
    repository_selection: 'selected',
    access_tokens_url: `${API}/app/installations/${id}/access_tokens`,
    repositories_url: `${API}/installation/repositories`,
    html_url: `${WEB}/${target.type === 'Organization' ? `organizations/${target.login}/` : ''}settings/installations/${id}`,
    app_id: app.id,
    client_id: `Iv1.${app.slug}`,
    target_id: target.id,
    target_type: target.type,
    permissions: {
      checks: 'write',
      contents: 'write',
      metadata: 'read',
      pull_requests: 'write',
      members: 'read',
    },
    events: ['pull_request', 'pull_request_review', 'check_run'],
    created_at: '2024-01-08T09:05:00Z',
    updated_at: '2024-01-08T09:05:00Z',
    single_file_name: null,
    has_multiple_single_files: false,
    single_file_paths: [],
    app_slug: app.slug,
    suspended_by: null,
    suspended_at: null,
  };
}

export function issueComment(comment: CommentRecord) {
  const base = `${API}/repos/${comment.repo.fullName}`;
  return {
    id: comment.id,
    node_id: nodeId('IssueComment', comment.id),
    url: `${base}/issues/comments/${comment.id}`,
    html_url: `${WEB}/${comment.repo.fullName}/pull/${comment.issue}#issuecomment-${comment.id}`,
    body: comment.body,
    user: account(comment.user),
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
    issue_url: `${base}/issues/${comment.issue}`,
    author_association: comment.user.type === 'Bot' ? 'NONE' : 'MEMBER',
  };
}

/** A pull request as the issue it also is: what `issue_comment` events carry as `issue`. */
export function pullIssue(pr: PullRecord) {
  const base = `${API}/repos/${pr.base.fullName}`;
  const web = `${WEB}/${pr.base.fullName}/pull/${pr.number}`;
  return {
    url: `${base}/issues/${pr.number}`,
    repository_url: base,
    labels_url: `${base}/issues/${pr.number}/labels{/name}`,
    comments_url: `${base}/issues/${pr.number}/comments`,
    events_url: `${base}/issues/${pr.number}/events`,
    html_url: web,
    id: pr.id,
    node_id: nodeId('PullRequest', pr.id),
    number: pr.number,
    title: pr.title,
    user: account(pr.author),
    labels: [],
    state: pr.state,
    locked: false,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: 0,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    author_association: 'MEMBER',
    active_lock_reason: null,
    body: null,
    pull_request: {
      url: `${base}/pulls/${pr.number}`,
      html_url: web,
      diff_url: `${web}.diff`,
      patch_url: `${web}.patch`,
      merged_at: pr.mergedAt,
    },
  };
}

export function deployment(record: DeploymentRecord) {
  const url = `${API}/repos/${record.repo.fullName}/deployments/${record.id}`;
  return {
    url,
    id: record.id,
    node_id: nodeId('Deployment', record.id),
    sha: record.sha,
    ref: record.ref,
    task: record.task,
    payload: record.payload,
    original_environment: record.environment,
    environment: record.environment,
    description: record.description,
    creator: account(record.creator),
    created_at: record.createdAt,
    updated_at: record.statuses.at(-1)?.createdAt ?? record.createdAt,
    statuses_url: `${url}/statuses`,
    repository_url: `${API}/repos/${record.repo.fullName}`,
    transient_environment: false,
    production_environment: false,
  };
}

export function deploymentStatus(record: DeploymentRecord, status: DeploymentStatusRecord) {
  const url = `${API}/repos/${record.repo.fullName}/deployments/${record.id}`;
  return {
    url: `${url}/statuses/${status.id}`,
    id: status.id,
    node_id: nodeId('DeploymentStatus', status.id),
    state: status.state,
    creator: account(record.creator),
    description: status.description,
    environment: record.environment,
    target_url: `${WEB}/${record.repo.fullName}/deployments/${encodeURIComponent(record.environment)}`,
    created_at: status.createdAt,
    updated_at: status.createdAt,
    deployment_url: url,
    repository_url: `${API}/repos/${record.repo.fullName}`,
  };
}

export function reaction(id: number, user: Account, content: string, createdAt: string) {
  return { id, node_id: nodeId('Reaction', id), user: account(user), content, created_at: createdAt };
}

export function gitTree(
  repo: RepositoryRecord,
  sha: string,
  entries: readonly ListedEntry[],
  truncated: boolean,
) {
  const base = `${API}/repos/${repo.fullName}/git`;
  return {
    sha,
    url: `${base}/trees/${sha}`,
    truncated,
    tree: entries.map((entry) => ({
      path: entry.path,
      mode: entry.mode,
      type: entry.type,
      sha: entry.sha,
      ...(entry.size !== undefined ? { size: entry.size } : {}),
      url: `${base}/${entry.type === 'tree' ? 'trees' : 'blobs'}/${entry.sha}`,
    })),
  };
}

export function gitBlob(repo: RepositoryRecord, sha: string, bytes: Uint8Array) {
  // GitHub wraps base64 at 60 characters per line.
  const content = (
    Buffer.from(bytes)
      .toString('base64')
      .match(/.{1,60}/g) ?? []
  ).join('\n');
  return {
    content: content === '' ? '' : `${content}\n`,
    encoding: 'base64',
    url: `${API}/repos/${repo.fullName}/git/blobs/${sha}`,
    sha,
    size: bytes.length,
    node_id: nodeId('Blob', sha),
  };
}

export function gitCommit(repo: RepositoryRecord, commit: GitCommit) {
  const base = `${API}/repos/${repo.fullName}/git`;
  return {
    sha: commit.sha,
    node_id: nodeId('Commit', commit.sha),
    url: `${base}/commits/${commit.sha}`,
    html_url: `${WEB}/${repo.fullName}/commit/${commit.sha}`,
    author: { ...commit.author },
    committer: { ...commit.committer },
    message: commit.message,
    tree: { sha: commit.tree, url: `${base}/trees/${commit.tree}` },
    parents: commit.parents.map((sha) => ({
      sha,
      url: `${base}/commits/${sha}`,
      html_url: `${WEB}/${repo.fullName}/commit/${sha}`,
    })),
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
  };
}

export function gitRef(repo: RepositoryRecord, ref: string, sha: string) {
  return {
    ref,
    node_id: nodeId('Ref', ref),
    url: `${API}/repos/${repo.fullName}/git/${ref}`,
    object: { type: 'commit', sha, url: `${API}/repos/${repo.fullName}/git/commits/${sha}` },
  };
}

export function basicError(status: number, message: string) {
  return { message, documentation_url: 'https://docs.github.com/rest', status: String(status) };
}
