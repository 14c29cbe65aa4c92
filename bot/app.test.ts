import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CONFIG_REPO,
  createTestApp,
  exampleRepoFiles,
  PEOPLE,
  type TestApp,
} from '../test/bot-e2e/test-app.js';
import type { CheckRunRecord } from '../test/github-emulator/index.js';
import {
  APPROVAL_RECORD_CHECK,
  APPROVALS_CHECK,
  DEFAULT_NOTES_REF,
  PLAN_MARKER,
  VALIDATE_CHECK,
} from './names.js';
import type { ApprovalRecord } from './record/approval-record.js';

/*
 * The app as GitHub drives it: webhook payloads shaped like GitHub's (from @octokit/webhooks-examples)
 * go to probot.receive(); every API call is intercepted by nock and answered by the GitHub emulator,
 * which checks each request and response against GitHub's OpenAPI description.
 */

const SEARCH_PROD_OVERLAY = 'services/search-api/config/@prod/application.properties';
const SEARCH_PROD_RELEASE = 'services/search-api/releases/prod.yaml';
const SEARCH_SERVICE = 'services/search-api/service.yaml';

let app: TestApp;

beforeEach(async () => {
  app = await createTestApp();
});

afterEach(async () => {
  await app.close();
  app.github.assertNoViolations();
});

async function original(path: string): Promise<string> {
  return Buffer.from((await exampleRepoFiles()).get(path) as Uint8Array).toString('utf8');
}

/** Commits `changes` on a new branch, opens a pull request from it and delivers `opened`. */
async function openPullRequest(
  branch: string,
  changes: Record<string, string | Uint8Array | null>,
  author: string = PEOPLE.author,
): Promise<{ number: number; head: string }> {
  const head = app.repo.commit(branch, changes, `Change ${branch}`);
  const { number, event } = app.repo.openPullRequest({ head: branch, author });
  await app.receive(event);
  return { number, head };
}

function check(name: string, sha: string): CheckRunRecord {
  const run = app.repo.latestCheckRun(name, sha);
  if (!run) throw new Error(`no "${name}" run on ${sha}`);
  return run;
}

async function approve(number: number, user: string, commitId?: string): Promise<void> {
  const { event } = app.repo.review(number, { user, ...(commitId ? { commitId } : {}) });
  await app.receive(event);
}

describe('check "cairn / validate"', () => {
  it('fails a broken config with an annotation at the file and line of the error', async () => {
    const service = (await original(SEARCH_SERVICE)).replace('port: 8080', 'port: 80800');
    const { head } = await openPullRequest('bad-port', { [SEARCH_SERVICE]: service });

    const run = check(VALIDATE_CHECK, head);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'failure', output: { title: '1 error' } });
    expect(run.annotations).toEqual([
      {
        path: SEARCH_SERVICE,
        start_line: 7,
        end_line: 7,
        start_column: 7,
        end_column: 7,
        annotation_level: 'failure',
        title: 'schema/maximum',
        message: 'port: must be <= 65535',
      },
    ]);
    expect(run.output.text).toContain(`${SEARCH_SERVICE}:7:7: error schema/maximum: port: must be <= 65535`);
  });

  it('passes once a push fixes the error, on the new head', async () => {
    const service = await original(SEARCH_SERVICE);
    const { number, head } = await openPullRequest('fix-later', {
      [SEARCH_SERVICE]: service.replace('port: 8080', 'port: -1'),
    });
    const { sha, event } = app.repo.push(number, {
      [SEARCH_SERVICE]: service.replace('port: 8080', 'port: 8081'),
    });
    await app.receive(event);

    expect(check(VALIDATE_CHECK, head).conclusion).toBe('failure');
    expect(check(VALIDATE_CHECK, sha)).toMatchObject({ conclusion: 'success', annotations: [] });
    expect(check(VALIDATE_CHECK, sha).output.title).toBe('valid: 4 services');
  });

  it('sends every annotation, at most 50 per request, and concludes with the last batch', async () => {
    const broken = Object.fromEntries(
      Array.from({ length: 120 }, (_, i) => [
        `services/search-api/config/broken-${String(i).padStart(3, '0')}.json`,
        `{"a": }`,
      ]),
    );
    const { head } = await openPullRequest('many-errors', broken);

    const run = check(VALIDATE_CHECK, head);
    const patches = app.github.requestsTo('PATCH', new RegExp(`/check-runs/${run.id}$`));
    const batches = patches.map(
      (p) => (p.requestBody as { output: { annotations?: unknown[] } }).output.annotations?.length,
    );
    expect(batches).toEqual([50, 50, 20]);
    expect(patches.map((p) => (p.requestBody as { conclusion?: string }).conclusion)).toEqual([
      undefined,
      undefined,
      'failure',
    ]);
    expect(run.annotations).toHaveLength(120);
    expect(run.annotations[119]).toMatchObject({
      path: 'services/search-api/config/broken-119.json',
      start_line: 1,
    });
  });

  it('reads commits through the Git Data API and fetches each blob once', async () => {
    const overlay = `${await original(SEARCH_PROD_OVERLAY)}search.query.max-length=300\n`;
    const { number } = await openPullRequest('tune', { [SEARCH_PROD_OVERLAY]: overlay });
    const before = app.github.requests.length;
    const { event } = app.repo.push(number, {
      [SEARCH_PROD_OVERLAY]: `${overlay}search.results.default-page-size=30\n`,
    });
    await app.receive(event);

    const blobs = app.github.requestsTo('GET', /\/git\/blobs\//).map((r) => r.path);
    expect(new Set(blobs).size).toBe(blobs.length);
    // The push changed one file: that is the only content fetched again.
    expect(app.github.requests.slice(before).filter((r) => r.path.includes('/git/blobs/'))).toHaveLength(1);
    expect(
      app.github.requests.every((r) => !r.path.includes('/contents/') && !r.path.includes('/tarball')),
    ).toBe(true);
  });

  it('fails clearly when GitHub truncates the tree listing', async () => {
    app.github.treeEntryLimit = 20;
    const { number, head } = await openPullRequest('small', { 'README.md': '# Config\n' });

    expect(check(VALIDATE_CHECK, head)).toMatchObject({
      conclusion: 'failure',
      output: { title: 'Repository too large to check' },
    });
    expect(check(VALIDATE_CHECK, head).output.summary).toContain('truncated');
    expect(app.repo.comments(number)[0]?.body).toContain('**No plan**');
  });

  it('fails a pull request that deletes cairn.yaml, naming the missing file in the summary', async () => {
    const { head } = await openPullRequest('no-settings', { 'cairn.yaml': null });

    const run = check(VALIDATE_CHECK, head);
    expect(run.conclusion).toBe('failure');
    // The file is not in the commit, so no annotation can point at it; the summary says it instead.
    expect(run.annotations.filter((a) => a.path === 'cairn.yaml')).toEqual([]);
    expect(run.output.summary).toContain('cairn.yaml:1:1: error repo/missing-settings');
    expect(check(APPROVALS_CHECK, head).output.summary).toContain('repo-settings');
  });

  it('receives binary and non-UTF-8 files byte for byte, so the validator judges their real content', async () => {
    const logo = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0xff, 0xfe]);
    const latin1 = new Uint8Array(Buffer.from('title: caf\xe9\n', 'latin1'));
    const { head } = await openPullRequest('bytes', {
      'services/search-api/config/logo.png': logo,
      'services/search-api/config/legacy.yaml': latin1,
    });

    const run = check(VALIDATE_CHECK, head);
    expect(run.conclusion).toBe('failure');
    expect(run.annotations).toEqual([
      expect.objectContaining({
        path: 'services/search-api/config/legacy.yaml',
        start_line: 1,
        title: 'file/not-text',
      }),
    ]);
  });

  it('checks a pull request from a fork on its head sha, read through the base repository', async () => {
    const fork = app.github.createRepository('otto-outsider/platform-config', {
      ownerType: 'User',
      fork: true,
    });
    const base = app.repo.ref('main') as string;
    fork.setRef('refs/heads/main', base);
    const head = fork.commit(
      'typo',
      { [SEARCH_SERVICE]: (await original(SEARCH_SERVICE)).replace('port: 8080', 'port: 8080x') },
      'Fix',
    );
    const { event } = app.repo.openPullRequest({ head: 'typo', author: PEOPLE.outsider, fork });
    await app.receive(event);

    const run = check(VALIDATE_CHECK, head);
    expect(run.conclusion).toBe('failure');
    expect(run.output.summary).toContain('comes from the fork `otto-outsider/platform-config`');
    expect(run.output.summary).toContain('nothing from it was run');
    const reads = app.github.requestsTo('GET', /\/git\//);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.path.startsWith(`/repos/${CONFIG_REPO}/`))).toBe(true);
  });
});

describe('plan comment', () => {
  it('shows what changes per service and environment, with a short diff, and the deployments that start', async () => {
    const overlay = (await original(SEARCH_PROD_OVERLAY)).replace(
      'server.tomcat.threads.max=400',
      'server.tomcat.threads.max=600',
    );
    const release = (await original(SEARCH_PROD_RELEASE)).replace('version: v5.7.2', 'version: v5.8.0');
    const { number } = await openPullRequest('prod-tuning', {
      [SEARCH_PROD_OVERLAY]: overlay,
      [SEARCH_PROD_RELEASE]: release,
    });

    const [comment, ...others] = app.repo.comments(number);
    expect(others).toEqual([]);
    const body = comment?.body ?? '';
    expect(body.startsWith(PLAN_MARKER)).toBe(true);
    expect(body).toContain(
      '**Plan:** 0 to add, 1 to change, 0 to remove (effective files) · 1 deployment to start',
    );
    expect(body).toContain('#### `search-api` · `prod` — live with the next release tag matching `v*`');
    expect(body).toContain('**~ `application.properties`** changed');
    expect(body).toContain('-server.tomcat.threads.max=400');
    expect(body).toContain('+server.tomcat.threads.max=600');
    expect(body).toContain(
      '`v5.7.2` → `v5.8.0` on 8 hosts, starting when a release tag matching `v*` points at the merge',
    );
    expect(body).toContain('- canary: `search-prod-01.dc1.northwind.internal`, then bake 600 s');
    expect(body).toContain(
      '- batch 1 of 4: `search-prod-02.dc1.northwind.internal`, `search-prod-03.dc1.northwind.internal`',
    );
    expect(body).not.toContain('`staging`');
  });

  it("keeps one comment, found by its marker and edited in place, and leaves people's comments alone", async () => {
    const overlay = await original(SEARCH_PROD_OVERLAY);
    const { number } = await openPullRequest('twice', { [SEARCH_PROD_OVERLAY]: `${overlay}a.b=1\n` });
    app.repo.comment(number, PEOPLE.searchOwner, `${PLAN_MARKER}\nquoting the bot`);
    const { event } = app.repo.push(number, { [SEARCH_PROD_OVERLAY]: `${overlay}a.b=2\n` });
    await app.receive(event);

    const comments = app.repo.comments(number);
    expect(comments).toHaveLength(2);
    expect(comments[0]?.body).toContain('+a.b=2');
    expect(comments[1]?.body).toBe(`${PLAN_MARKER}\nquoting the bot`);
    expect(app.github.requestsTo('POST', /\/issues\/\d+\/comments$/)).toHaveLength(1);
    expect(app.github.requestsTo('PATCH', /\/issues\/comments\/\d+$/)).toHaveLength(1);
  });

  it("edits only its own comment: another app's comment with the marker is left alone", async () => {
    const overlay = await original(SEARCH_PROD_OVERLAY);
    app.repo.commit('impostor', { [SEARCH_PROD_OVERLAY]: `${overlay}a.b=1\n` }, 'Change impostor');
    const { number, event } = app.repo.openPullRequest({ head: 'impostor', author: PEOPLE.author });
    // Another app got there first, quoting the marker.
    app.repo.comment(number, 'other-app[bot]', `${PLAN_MARKER}\nnot Cairn's plan`, 'Bot');
    await app.receive(event);
    const { event: pushed } = app.repo.push(number, { [SEARCH_PROD_OVERLAY]: `${overlay}a.b=2\n` });
    await app.receive(pushed);

    const comments = app.repo.comments(number);
    expect(comments.map((c) => c.user.login)).toEqual(['other-app[bot]', app.github.bot.login]);
    expect(comments[0]?.body).toBe(`${PLAN_MARKER}\nnot Cairn's plan`);
    expect(comments[1]?.body).toContain('+a.b=2');
    // The app asked GitHub who it is once, however many deliveries followed.
    expect(app.github.requestsTo('GET', /\/app$/)).toHaveLength(1);
  });

  it('writes one plan comment when two deliveries for the same head arrive together', async () => {
    const overlay = await original(SEARCH_PROD_OVERLAY);
    app.repo.commit('together', { [SEARCH_PROD_OVERLAY]: `${overlay}a.b=1\n` }, 'Change together');
    const { number, event } = app.repo.openPullRequest({ head: 'together', author: PEOPLE.author });
    await Promise.all([app.receive(event), app.receive({ ...event, id: `${event.id}-again` })]);

    const comments = app.repo.comments(number);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain('+a.b=1');
    expect(app.github.requestsTo('POST', /\/issues\/\d+\/comments$/)).toHaveLength(1);
  });

  it('shows binary files by size, not as a diff', async () => {
    const { number } = await openPullRequest('logo', {
      'services/search-api/config/logo.png': new Uint8Array(2048).fill(0xff),
    });
    const body = app.repo.comments(number)[0]?.body ?? '';
    expect(body).toContain('**+ `logo.png`** binary, 2,048 bytes');
    expect(body).not.toContain('```diff\n+\uFFFD');
  });

  it('says there is no plan while the head does not validate', async () => {
    const { number } = await openPullRequest('invalid', { 'cairn.yaml': 'apiVersion: cairn/v2\n' });
    expect(app.repo.comments(number)[0]?.body).toContain(
      'The syncer refuses a commit that does not validate',
    );
  });
});

describe('check "cairn / approvals"', () => {
  async function prodOverlayChange(branch = 'prod-change') {
    const overlay = `${await original(SEARCH_PROD_OVERLAY)}search.cache.ttl=120s\n`;
    return openPullRequest(branch, { [SEARCH_PROD_OVERLAY]: overlay });
  }

  it('stays in progress until two owners approved a prod config change, then succeeds', async () => {
    const { number, head } = await prodOverlayChange();
    expect(check(APPROVALS_CHECK, head)).toMatchObject({
      status: 'in_progress',
      conclusion: null,
      output: { title: 'Waiting for approvals: 0 of 2 rules satisfied' },
    });

    await approve(number, PEOPLE.searchOwner);
    expect(check(APPROVALS_CHECK, head)).toMatchObject({
      status: 'in_progress',
      output: { title: 'Waiting for approvals: 1 of 2 rules satisfied' },
    });

    // An active member of team:search, an owner through the team.
    await approve(number, PEOPLE.searchTeamMember);
    const run = check(APPROVALS_CHECK, head);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(run.output.summary).toContain(`@${PEOPLE.searchOwner} on \`${head.slice(0, 7)}\``);
    expect(run.output.summary).toContain(`@${PEOPLE.searchTeamMember} on \`${head.slice(0, 7)}\``);
    // One run per head, updated in place while waiting.
    expect(app.repo.checkRuns({ name: APPROVALS_CHECK, headSha: head })).toHaveLength(1);
  });

  it('counts an approval only for the head commit it was given on', async () => {
    const { number, head } = await prodOverlayChange();
    await approve(number, PEOPLE.searchOwner);
    await approve(number, PEOPLE.searchTeamMember);
    expect(check(APPROVALS_CHECK, head).conclusion).toBe('success');

    const { sha, event } = app.repo.push(number, {
      [SEARCH_PROD_OVERLAY]: `${await original(SEARCH_PROD_OVERLAY)}search.cache.ttl=90s\n`,
    });
    await app.receive(event);
    const stale = check(APPROVALS_CHECK, sha);
    expect(stale).toMatchObject({
      status: 'in_progress',
      output: { title: 'Waiting for approvals: 0 of 2 rules satisfied' },
    });
    expect(stale.output.summary).toContain(
      `@${PEOPLE.searchOwner} approved \`${head.slice(0, 7)}\`, and files changed since (the head \`${sha.slice(0, 7)}\` has another tree)`,
    );

    // A review submitted now but naming the old commit is still a review of the old commit.
    await approve(number, PEOPLE.searchOwner, head);
    expect(check(APPROVALS_CHECK, sha).status).toBe('in_progress');
    await approve(number, PEOPLE.searchOwner);
    await approve(number, PEOPLE.searchTeamMember);
    expect(check(APPROVALS_CHECK, sha).conclusion).toBe('success');
  });

  it("never counts the author's own approval", async () => {
    const { number, head } = await openPullRequest(
      'own',
      { [SEARCH_PROD_OVERLAY]: 'x=1\n' },
      PEOPLE.searchOwner,
    );
    await approve(number, PEOPLE.searchOwner);
    const run = check(APPROVALS_CHECK, head);
    expect(run.status).toBe('in_progress');
    expect(run.output.summary).toContain(`@${PEOPLE.searchOwner} is the author`);
  });

  it('withdraws a dismissed approval with a new run, never reopening a concluded one', async () => {
    const release = (await original(SEARCH_PROD_RELEASE)).replace('version: v5.7.2', 'version: v5.7.3');
    const { number, head } = await openPullRequest('release', { [SEARCH_PROD_RELEASE]: release });
    await approve(number, PEOPLE.searchOwner);
    expect(check(APPROVALS_CHECK, head).status).toBe('in_progress');
    const { id, event } = app.repo.review(number, { user: PEOPLE.sre });
    await app.receive(event);
    expect(check(APPROVALS_CHECK, head).conclusion).toBe('success');

    await app.receive(app.repo.dismissReview(number, id, PEOPLE.searchOwner));
    const runs = app.repo.checkRuns({ name: APPROVALS_CHECK, headSha: head });
    expect(runs.map((r) => r.status)).toEqual(['completed', 'in_progress']);
    expect(runs[1]?.output.summary).toContain(`@${PEOPLE.sre}'s review was dismissed`);
  });

  it('needs an owner and an SRE for a prod release', async () => {
    const release = (await original(SEARCH_PROD_RELEASE)).replace('version: v5.7.2', 'version: v5.8.0');
    const { number, head } = await openPullRequest('release', { [SEARCH_PROD_RELEASE]: release });
    await approve(number, PEOPLE.sre);
    expect(check(APPROVALS_CHECK, head).output.title).toBe('Waiting for approvals: 0 of 2 rules satisfied');
    await approve(number, PEOPLE.outsider);
    expect(check(APPROVALS_CHECK, head).status).toBe('in_progress');
    await approve(number, PEOPLE.searchOwner);
    expect(check(APPROVALS_CHECK, head).conclusion).toBe('success');
    const memberships = app.github.requestsTo('GET', /\/orgs\/northwind\/teams\/[^/]+\/memberships\//);
    expect(
      memberships.some((r) => r.path.endsWith(`/sre/memberships/${PEOPLE.sre}`) && r.status === 200),
    ).toBe(true);
    expect(
      memberships.some((r) => r.path.endsWith(`/sre/memberships/${PEOPLE.outsider}`) && r.status === 404),
    ).toBe(true);
  });

  it("judges by the base branch's policy.yaml: a pull request cannot weaken its own rules", async () => {
    const lax =
      'apiVersion: cairn/v1\nrules:\n  - name: anyone\n    paths: ["nothing/**"]\n    require:\n      - { approvals: 1, from: [user:otto-outsider] }\n';
    const { number, head } = await openPullRequest('lax', {
      'policy.yaml': lax,
      [SEARCH_PROD_OVERLAY]: 'x=2\n',
    });
    await approve(number, PEOPLE.outsider);
    const run = check(APPROVALS_CHECK, head);
    expect(run.status).toBe('in_progress');
    expect(run.output.summary).toContain('**repo-settings**');
    expect(run.output.summary).toContain('**prod-config**');
    expect(run.output.summary).not.toContain('anyone');
  });

  it("fails, and says how to fix it, when the base branch's policy.yaml does not validate", async () => {
    await app.close();
    const files = new Map(await exampleRepoFiles());
    files.set('policy.yaml', Buffer.from('apiVersion: cairn/v1\nrules: []\n'));
    app = await createTestApp({ files });
    const { head } = await openPullRequest('any', { [SEARCH_PROD_OVERLAY]: 'x=1\n' });
    const run = check(APPROVALS_CHECK, head);
    expect(run).toMatchObject({
      conclusion: 'failure',
      output: { title: 'Approvals can never be met: policy.yaml needs fixing' },
    });
    expect(run.output.summary).toContain('policy.yaml on `main` does not validate (policy.yaml:2:');
  });

  it('keeps approvals over a rebase that leaves the tree unchanged, and says why', async () => {
    const { number, head } = await prodOverlayChange('rebase-same-tree');
    await approve(number, PEOPLE.searchOwner);
    await approve(number, PEOPLE.searchTeamMember);
    expect(check(APPROVALS_CHECK, head).conclusion).toBe('success');

    // The base has not moved: the rebased commit is a new commit with the very same files.
    const { sha, event } = app.repo.rebase(number, 'Squash into one commit');
    await app.receive(event);
    expect(sha).not.toBe(head);
    const run = check(APPROVALS_CHECK, sha);
    expect(run).toMatchObject({ status: 'completed', conclusion: 'success' });
    expect(run.output.summary).toContain(
      `@${PEOPLE.searchOwner} on \`${head.slice(0, 7)}\` (same files as the head)`,
    );
    expect(run.output.summary).toContain('Approvals carried over pushes that changed no file');
    expect(run.output.summary).toMatch(
      new RegExp(
        `@${PEOPLE.searchTeamMember} approved \`${head.slice(0, 7)}\` at .*; its tree \`[0-9a-f]{7}\` is the head's tree`,
      ),
    );
    // Both trees come from the commits themselves, through the Git Data API.
    const commits = app.github
      .requestsTo('GET', /\/git\/commits\/[0-9a-f]{40}$/)
      .map((r) => r.path.slice(-40));
    expect(commits).toEqual(expect.arrayContaining([head, sha]));

    // The record of the merge names the commit each reviewer saw.
    const { sha: mergeCommit, event: merged } = app.repo.merge(number, { by: PEOPLE.searchOwner });
    await app.receive(merged);
    const record = JSON.parse(app.repo.note(DEFAULT_NOTES_REF, mergeCommit) ?? 'null') as ApprovalRecord;
    expect(record).toMatchObject({ headSha: sha, satisfied: true });
    expect(record.rules.flatMap((r) => r.satisfiedBy.map((a) => a.approvedSha))).toEqual([
      head,
      head,
      head,
      head,
    ]);
  });

  it('asks again after a rebase onto a base that moved: the tree is not the one approved', async () => {
    const { number, head } = await prodOverlayChange('rebase-new-tree');
    await approve(number, PEOPLE.searchOwner);
    await approve(number, PEOPLE.searchTeamMember);
    expect(check(APPROVALS_CHECK, head).conclusion).toBe('success');

    app.repo.commit(
      'main',
      { 'README.md': '# Northwind platform configuration\n' },
      'Describe the repository',
    );
    const { sha, event } = app.repo.rebase(number);
    await app.receive(event);
    const run = check(APPROVALS_CHECK, sha);
    expect(run).toMatchObject({
      status: 'in_progress',
      output: { title: 'Waiting for approvals: 0 of 2 rules satisfied' },
    });
    expect(run.output.summary).toContain(
      `@${PEOPLE.searchOwner} approved \`${head.slice(0, 7)}\`, and files changed since`,
    );
    expect(run.output.summary).not.toContain('carried over');
  });

  it('asks again after any push when policy.yaml turns keepOnUnchangedTree off', async () => {
    await app.close();
    const files = new Map(await exampleRepoFiles());
    const policy = Buffer.from(files.get('policy.yaml') as Uint8Array).toString('utf8');
    files.set(
      'policy.yaml',
      Buffer.from(policy.replace('keepOnUnchangedTree: true', 'keepOnUnchangedTree: false')),
    );
    app = await createTestApp({ files });
    const { number, head } = await prodOverlayChange('rebase-strict');
    await approve(number, PEOPLE.searchOwner);
    await approve(number, PEOPLE.searchTeamMember);
    expect(check(APPROVALS_CHECK, head).conclusion).toBe('success');

    const { sha, event } = app.repo.rebase(number);
    await app.receive(event);
    const run = check(APPROVALS_CHECK, sha);
    expect(run.status).toBe('in_progress');
    expect(run.output.summary).toContain('Approvals count only for the head commit');
    expect(run.output.summary).toContain(
      `@${PEOPLE.searchOwner} approved \`${head.slice(0, 7)}\`, not the head \`${sha.slice(0, 7)}\``,
    );
    expect(app.github.requestsTo('GET', /\/git\/commits\//)).toEqual([]);
  });

  it('finds every changed path when GitHub lists only the first 3,000 files', async () => {
    // 3,000 generated files sort before the release manifest, so GitHub's list stops short of it.
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i++)
      files[`services/recommender/config/bulk/item-${String(i).padStart(4, '0')}.json`] = '{}\n';
    files[SEARCH_PROD_RELEASE] = (await original(SEARCH_PROD_RELEASE)).replace(
      'version: v5.7.2',
      'version: v5.8.1',
    );
    const { number, head } = await openPullRequest('bulk', files);

    const run = check(APPROVALS_CHECK, head);
    expect(run.output.summary).toContain('GitHub lists at most 3,000');
    expect(run.output.summary).toContain('**prod-releases**');
    expect(check(VALIDATE_CHECK, head).conclusion).toBe('success');
    const listed = app.github.requestsTo('GET', /\/pulls\/\d+\/files$/);
    expect(listed).toHaveLength(30);
    // 3,000 identical files are one blob: fetched once.
    expect(
      app.github
        .requestsTo('GET', /\/git\/blobs\//)
        .filter((r) => r.path.endsWith('0967ef424bce6791893e9a57bb952f80fd536e93')),
    ).toHaveLength(1);
    const plan = app.repo.comments(number)[0]?.body ?? '';
    expect(plan.length).toBeLessThanOrEqual(65_536);
    expect(plan).toContain('more file change');
  });
});

describe('the approval record', () => {
  it('is written on merge as a git note on the merge commit, and shown in a check on it', async () => {
    const release = (await original(SEARCH_PROD_RELEASE)).replace('version: v5.7.2', 'version: v5.8.0');
    const { number, head } = await openPullRequest('release', { [SEARCH_PROD_RELEASE]: release });
    await approve(number, PEOPLE.searchOwner, head);
    await approve(number, PEOPLE.sre);
    const { sha: mergeCommit, event } = app.repo.merge(number, { by: PEOPLE.searchOwner });
    await app.receive(event);

    const note = app.repo.note(DEFAULT_NOTES_REF, mergeCommit);
    const record = JSON.parse(note ?? 'null') as ApprovalRecord;
    expect(record).toMatchObject({
      format: 'cairn/approval-record/v1',
      repository: CONFIG_REPO,
      pr: number,
      mergeCommit,
      headSha: head,
      satisfied: true,
      mergedBy: PEOPLE.searchOwner,
    });
    expect(record.rules).toEqual([
      {
        rule: 'service-owners',
        satisfied: true,
        satisfiedBy: [expect.objectContaining({ login: PEOPLE.searchOwner, approvedSha: head })],
      },
      {
        rule: 'prod-releases',
        satisfied: true,
        satisfiedBy: [
          {
            login: PEOPLE.searchOwner,
            approvedSha: head,
            submittedAt: expect.stringMatching(/^2024-12-09T/),
          },
          { login: PEOPLE.sre, approvedSha: head, submittedAt: expect.stringMatching(/^2024-12-09T/) },
        ],
      },
    ]);
    expect(Date.parse(record.recordedAt)).not.toBeNaN();
    const run = check(APPROVAL_RECORD_CHECK, mergeCommit);
    expect(run.conclusion).toBe('success');
    expect(run.output.summary).toContain(`git notes --ref=${DEFAULT_NOTES_REF} show ${mergeCommit}`);
    expect(run.output.text).toContain(`"mergeCommit": "${mergeCommit}"`);
  });

  it('records a merge that went in without the required approvals as such', async () => {
    const { number } = await openPullRequest('forced', { [SEARCH_PROD_OVERLAY]: 'x=1\n' });
    const { sha, event } = app.repo.merge(number, { by: 'an-admin' });
    await app.receive(event);
    const record = JSON.parse(app.repo.note(DEFAULT_NOTES_REF, sha) ?? 'null') as ApprovalRecord;
    expect(record.satisfied).toBe(false);
    expect(record.rules.map((r) => [r.rule, r.satisfied])).toEqual([
      ['service-owners', false],
      ['prod-config', false],
    ]);
    expect(check(APPROVAL_RECORD_CHECK, sha)).toMatchObject({
      conclusion: 'failure',
      output: { title: `Merged without the required approvals (#${number})` },
    });
  });

  it('adds to the notes history, retries when another writer moved the ref, and keeps the first record', async () => {
    const first = await openPullRequest('one', { 'README.md': 'one\n' });
    const merged1 = app.repo.merge(first.number, { by: PEOPLE.searchOwner });
    await app.receive(merged1.event);
    const notesAfterFirst = app.repo.ref(DEFAULT_NOTES_REF) as string;

    const second = await openPullRequest('two', { 'docs.md': 'two\n' });
    const merged2 = app.repo.merge(second.number, { by: PEOPLE.searchOwner });
    app.github.failNext({
      method: 'PATCH',
      path: /\/git\/refs\/notes%2Fcairn-approvals$/,
      status: 422,
      body: {
        message: 'Update is not a fast forward',
        documentation_url: 'https://docs.github.com/rest/git/refs#update-a-reference',
        status: '422',
      },
    });
    await app.receive(merged2.event);

    expect(app.repo.note(DEFAULT_NOTES_REF, merged1.sha)).toContain(`"pr": ${first.number}`);
    expect(app.repo.note(DEFAULT_NOTES_REF, merged2.sha)).toContain(`"pr": ${second.number}`);
    const notesCommit = app.github.objects.get(app.repo.ref(DEFAULT_NOTES_REF) as string);
    expect(notesCommit).toMatchObject({ type: 'commit', parents: [notesAfterFirst] });
    expect(app.github.requestsTo('PATCH', /\/git\/refs\//).map((r) => r.status)).toEqual([422, 200]);

    const recorded = app.repo.note(DEFAULT_NOTES_REF, merged2.sha);
    await app.receive(merged2.event);
    expect(app.repo.note(DEFAULT_NOTES_REF, merged2.sha)).toBe(recorded);
  });
});

describe('events', () => {
  it('runs a check again when someone presses "Re-run" on it', async () => {
    const { head } = await openPullRequest('rerun', { 'README.md': 'x\n' });
    const first = check(VALIDATE_CHECK, head);
    await app.receive(app.repo.rerequestCheckRun(first.id, PEOPLE.author));
    const runs = app.repo.checkRuns({ name: VALIDATE_CHECK, headSha: head });
    expect(runs.map((r) => r.conclusion)).toEqual(['success', 'success']);
  });

  it('does nothing for a closed pull request that was not merged', async () => {
    const { number } = await openPullRequest('abandoned', { 'README.md': 'x\n' });
    const before = app.github.requests.length;
    await app.receive(app.repo.close(number, { by: PEOPLE.author }));
    expect(app.github.requests.slice(before)).toEqual([]);
  });
});

describe('/cairn comments', () => {
  it('answers a command when the bot follows no deployments, and leaves other comments and bots alone', async () => {
    app.repo.commit('steer', { 'README.md': 'x\n' }, 'Docs');
    const { number } = app.repo.openPullRequest({ head: 'steer', author: PEOPLE.author });
    const before = app.github.requests.length;
    await app.receive(app.repo.comment(number, PEOPLE.sre, 'Looks good to me'));
    await app.receive(app.repo.comment(number, 'other-app[bot]', '/cairn pause', 'Bot'));
    expect(app.github.requests.slice(before)).toEqual([]);
    await app.receive(app.repo.comment(number, PEOPLE.sre, '/cairn pause'));
    const answers = app.repo.comments(number).filter((c) => c.user === app.github.bot);
    expect(answers).toHaveLength(1);
    expect(answers[0]?.body).toContain(`@${PEOPLE.sre}: this bot does not follow deployments`);
  });

  it('ignores a comment on an issue that is no pull request', async () => {
    const event = app.repo.event('issue_comment', 'created', PEOPLE.sre, {
      issue: { number: 99, title: 'An issue', state: 'open', user: { login: PEOPLE.sre } },
      comment: {
        id: 1,
        body: '/cairn abort',
        html_url: 'https://github.com/x',
        user: { login: PEOPLE.sre, type: 'User' },
      },
    });
    const before = app.github.requests.length;
    await app.receive(event);
    expect(app.github.requests.slice(before)).toEqual([]);
  });
});
