import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppCredentials, GitHubEmulator, GitObjectStore, toJsonSchema } from './index.js';

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
});
