import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBareRepo, createWorkRepo, type GitServer, startGitServer } from '../../test/harness/index.js';
import {
  type GitCredentials,
  type GitSource,
  GitUnreachableError,
  openGitSource,
  resolveGitCredentials,
} from './index.js';

const USER = 'config-reader';
const TOKEN = 'glpat-5ecret-t0ken';

describe('git credentials', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-git-credentials-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const credentialFile = async (name: string, text: string) => {
    const file = join(dir, name);
    await writeFile(file, text, { mode: 0o600 });
    return file;
  };

  it('takes the first line of a git credential-store file for the scheme, host and port, as git does', async () => {
    const file = await credentialFile(
      'store',
      [
        'https://someone:other-host@git.example.org',
        'http://wrong-scheme:x@git.example.com',
        'https://wrong-path:x@git.example.com/other/repo.git',
        `https://${USER}:${encodeURIComponent('p@ss:word/1')}@git.example.com`,
        'https://later:x@git.example.com',
        '',
      ].join('\n'),
    );
    expect(resolveGitCredentials('https://git.example.com/org/config.git', { file })).toEqual({
      username: USER,
      password: 'p@ss:word/1',
    });
    // A line with the repository's own path is for it.
    const withPath = await credentialFile('with-path', 'https://per-repo:t@git.example.com/org/config.git\n');
    expect(resolveGitCredentials('https://git.example.com/org/config.git', { file: withPath })).toEqual({
      username: 'per-repo',
      password: 't',
    });
  });

  it('takes a token with the user name of the URL, or x-access-token', () => {
    expect(resolveGitCredentials('https://git.example.com/org/config.git', { token: TOKEN })).toEqual({
      username: 'x-access-token',
      password: TOKEN,
    });
    expect(
      resolveGitCredentials('https://oauth2@gitlab.example.com/org/config.git', { token: TOKEN }),
    ).toEqual({
      username: 'oauth2',
      password: TOKEN,
    });
    expect(resolveGitCredentials('https://git.example.com/x.git', {})).toBeUndefined();
  });

  it('refuses a file it cannot use with the flag and what to write, never a line of it', async () => {
    const missing = join(dir, 'absent');
    expect(() => resolveGitCredentials('https://git.example.com/x.git', { file: missing })).toThrow(
      `--git-credentials-file ${missing} cannot be read (ENOENT)`,
    );
    const noMatch = await credentialFile('no-match', `https://${USER}:${TOKEN}@elsewhere.example.com\n`);
    expect(() => resolveGitCredentials('https://git.example.com/x.git', { file: noMatch })).toThrow(
      `--git-credentials-file ${noMatch} has no line for https://git.example.com: add https://user:token@git.example.com`,
    );
    const garbled = await credentialFile('garbled', `${TOKEN}\n`);
    let message = '';
    try {
      resolveGitCredentials('https://git.example.com/x.git', { file: garbled });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('entry 1 is not a URL with credentials');
    expect(message).not.toContain(TOKEN);
  });

  describe('against a git server that wants them', () => {
    let server: GitServer;
    let url: string;
    let head: string;
    const sources: GitSource[] = [];
    beforeAll(async () => {
      server = await startGitServer({ credentials: { username: USER, password: TOKEN } });
      url = await createBareRepo(server, 'private');
      const author = await createWorkRepo();
      await author.write({ 'cairn.yaml': 'limits: {}\n' });
      head = await author.commit('Initial configuration');
      await author.push(url.replace('http://', `http://${USER}:${TOKEN}@`));
    });
    afterAll(async () => {
      for (const source of sources) source.close();
      await server?.close();
    });
    const open = async (credentials?: GitCredentials) => {
      const source = openGitSource({
        url,
        branch: 'main',
        cacheDir: await mkdtemp(join(dir, 'cache-')),
        ...(credentials ? { credentials } : {}),
      });
      sources.push(source);
      return source;
    };

    it('fetches with the credentials given apart from the URL', async () => {
      const file = await credentialFile('server', `${url.replace('http://', `http://${USER}:${TOKEN}@`)}\n`);
      const source = await open(resolveGitCredentials(url, { file }));
      expect(await source.fetchHead()).toBe(head);
      expect(await source.readNote('refs/notes/cairn-approvals', head)).toBeUndefined();
    });

    it('says how to give credentials when it has none or wrong ones, without naming them', async () => {
      for (const credentials of [undefined, { username: USER, password: 'wrong-token' }]) {
        const error = await (await open(credentials)).fetchHead().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(GitUnreachableError);
        expect((error as Error).message).toContain(
          'the server answered HTTP 401 Unauthorized: give credentials that may read it with --git-credentials-file or CAIRN_GIT_TOKEN',
        );
        expect((error as Error).message).not.toContain('wrong-token');
      }
    });
  });
});
