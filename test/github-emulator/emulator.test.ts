import { execFileSync } from 'node:child_process';
import { sign } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppCredentials,
  createAppCredentials,
  GitHubEmulator,
  GitObjectStore,
  toJsonSchema,
} from './index.js';

/** A JWT as an app signs it to act as itself (RS256, issued by the app id, valid for nine minutes). */
function appJwt(credentials: AppCredentials): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iat: now - 30, exp: now + 540, iss: credentials.appId })}`;
  return `${unsigned}.${sign('RSA-SHA256', Buffer.from(unsigned), credentials.privateKey).toString('base64url')}`;
}

describe('the OpenAPI conversion', () => {
  it('turns OpenAPI nullable into a JSON Schema type union, enums included', () => {
    expect(toJsonSchema({ type: 'string', nullable: true, enum: ['a'] })).toEqual({
      type: ['string', 'null'],
      enum: ['a', null],
    });
    expect(toJsonSchema({ nullable: true, allOf: [{ type: 'object' }] })).toEqual({
      anyOf: [{ type: 'null' }, { allOf: [{ type: 'object' }] }],
    });
    // A property that happens to be called "nullable" is a property, not the keyword.
    expect(toJsonSchema({ properties: { nullable: { type: 'boolean' } } })).toEqual({
      properties: { nullable: { type: 'boolean' } },
    });
  });
});

describe('git objects', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-git-objects-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives trees and blobs the ids git gives them', () => {
    const files = new Map<string, string | Uint8Array>([
      ['cairn.yaml', 'apiVersion: cairn/v1\n'],
      ['services/a/config/app.yaml', 'a: 1\n'],
      ['services/a-b/service.yaml', 'x: 2\n'],
      ['services/a/logo.bin', new Uint8Array([0, 1, 2, 255])],
    ]);
    // The machine's and the user's git configuration must not change what git writes.
    const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env }).toString().trim();
    git('init', '-q');
    for (const [path, content] of files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    git('add', '-A');
    expect(new GitObjectStore().writeFiles(files).sha).toBe(git('write-tree'));
  });

  it('copies a commit and all it reaches into a real repository, where git reads it whole', async () => {
    const store = new GitObjectStore();
    const tree = store.writeFiles(new Map([['services/a/config/app.yaml', 'a: 1\n']]));
    const signature = { name: 'Dana Dev', email: 'dana@example.com', date: '2024-12-09T10:00:00Z' };
    const first = store.writeCommit({
      tree: tree.sha,
      parents: [],
      message: 'First',
      author: signature,
      committer: signature,
    });
    const second = store.writeCommit({
      tree: store.writeTreeOnBase(tree.sha, [
        { path: 'services/a/config/app.yaml', mode: '100644', sha: store.writeBlob('a: 2\n').sha },
      ]).sha,
      parents: [first.sha],
      message: 'Second',
      author: signature,
      committer: signature,
    });
    const repo = join(dir, 'copy');
    mkdirSync(repo);
    const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] })
        .toString()
        .trim();
    git('init', '-q');
    await store.copyToGitDir(second.sha, join(repo, '.git'));
    expect(git('log', '--format=%H %s', second.sha)).toBe(`${second.sha} Second\n${first.sha} First`);
    expect(git('show', `${second.sha}:services/a/config/app.yaml`)).toBe('a: 2');
    git('fsck', '--strict', '--no-dangling');
  });
});

describe('the emulator', () => {
  const credentials = createAppCredentials();
  let github: GitHubEmulator;
  beforeAll(() => {
    github = new GitHubEmulator(credentials);
    github.createRepository('northwind/config', {
      files: new Map([['cairn.yaml', 'apiVersion: cairn/v1\n']]),
      installationId: 7,
    });
  });

  it('routes an encoded ref to the operation with the most literal segments', () => {
    const response = github.handle({
      method: 'PATCH',
      url: 'https://api.github.com/repos/northwind/config/git/refs/notes%2Fcairn-approvals',
      headers: {},
      body: { sha: 'a'.repeat(40) },
    });
    expect(response.status).toBe(401);
    expect(github.requests.at(-1)?.operationId).toBe('git/update-ref');
  });

  it('issues installation tokens only for a JWT signed with the app key', () => {
    const response = github.handle({
      method: 'POST',
      url: 'https://api.github.com/app/installations/7/access_tokens',
      headers: { authorization: 'bearer not.a.jwt' },
    });
    expect(response.status).toBe(401);
  });

  it('tells the app, asking with its JWT, which installation holds a repository', () => {
    const ask = (repo: string, token: string) =>
      github.handle({
        method: 'GET',
        url: `https://api.github.com/repos/northwind/${repo}/installation`,
        headers: { authorization: `bearer ${token}` },
      });
    const found = ask('config', appJwt(credentials));
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: 7, app_id: credentials.appId, account: { login: 'northwind' } });
    expect(ask('elsewhere', appJwt(credentials)).status).toBe(404);
    expect(ask('config', 'not.a.jwt').status).toBe(401);
    github.assertNoViolations();
  });

  it('records a request body that GitHub would refuse', () => {
    const before = github.violations.length;
    github.handle({
      method: 'POST',
      url: 'https://api.github.com/repos/northwind/config/check-runs',
      headers: {},
      body: {
        name: 'x',
        head_sha: 'a',
        output: { title: 't', summary: 's', annotations: Array(51).fill({}) },
      },
    });
    expect(github.violations.slice(before).map((v) => v.problem)).toEqual([
      expect.stringContaining('checks/create request'),
    ]);
    github.violations.length = before;
  });

  it('keeps deployments and their statuses, newest status first, and refuses what it would have to merge or check', () => {
    const token = (
      github.handle({
        method: 'POST',
        url: 'https://api.github.com/app/installations/7/access_tokens',
        headers: { authorization: `bearer ${appJwt(credentials)}` },
      }).body as { token: string }
    ).token;
    const call = (method: string, path: string, body?: unknown) =>
      github.handle({
        method,
        url: `https://api.github.com/repos/northwind/config${path}`,
        headers: { authorization: `token ${token}` },
        body,
      });
    const sha = github.repository('northwind/config').ref('main') as string;
    const create = (environment: string, extra: Record<string, unknown> = {}) =>
      call('POST', '/deployments', {
        ref: sha,
        environment,
        auto_merge: false,
        required_contexts: [],
        payload: { cairn: { key: environment } },
        ...extra,
      });
    expect(create('prod', { auto_merge: true }).status).toBe(409);
    expect(create('prod', { ref: 'f'.repeat(40) }).status).toBe(422);
    const prod = create('prod').body as { id: number };
    const dev = create('dev').body as { id: number };
    expect((call('GET', '/deployments?environment=prod').body as { id: number }[]).map((d) => d.id)).toEqual([
      prod.id,
    ]);
    expect(call('POST', `/deployments/${prod.id}/statuses`, { state: 'in_progress' }).status).toBe(201);
    expect(
      call('POST', `/deployments/${prod.id}/statuses`, { state: 'success', auto_inactive: false }).status,
    ).toBe(201);
    expect(call('POST', `/deployments/${prod.id}/statuses`, { state: 'x'.repeat(3) }).status).toBe(422);
    const statuses = call('GET', `/deployments/${prod.id}/statuses?per_page=1`);
    expect((statuses.body as { state: string }[]).map((s) => s.state)).toEqual(['success']);
    expect(statuses.headers.link).toContain('rel="next"');
    expect(call('GET', `/deployments/${dev.id + 1000}/statuses`).status).toBe(404);
    // The one state GitHub has no such thing as, and nothing else.
    expect(github.violations.map((v) => v.problem)).toEqual([
      expect.stringContaining('repos/create-deployment-status request'),
    ]);
    github.violations.length = 0;
  });
});
