import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePorts } from '../../local/index.js';
import { createBareRepo, createWorkRepo, type GitServer, startGitServer } from '../harness/index.js';
import { runCliCaptured } from '../support/run-cli.js';

const TOKEN = 'tok3n-s3cret-value';
/** Every line, at the most talkative level, with stack traces: still no secret. */
const TALKATIVE = {
  CAIRN_LOG_LEVEL: 'debug',
  CAIRN_LOG_FORMAT: 'json',
  CAIRN_DEBUG: '1',
  CAIRN_ZK_CONNECT_TIMEOUT: '1s',
};

describe('cairn sync never shows a secret', () => {
  let dir: string;
  let closedPort: number;
  let server: GitServer;
  let privateUrl: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cairn-secrets-'));
    [closedPort] = (await findFreePorts(1)) as [number];
    server = await startGitServer({ credentials: { username: 'reader', password: TOKEN } });
    privateUrl = await createBareRepo(server, 'private-config');
    const author = await createWorkRepo();
    await author.write({ 'cairn.yaml': 'limits: {}\n' });
    await author.commit('Initial configuration');
    await author.push(privateUrl.replace('http://', `http://reader:${TOKEN}@`));
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });
  const sync = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCliCaptured(
      ['sync', '--once', '--zk', `127.0.0.1:${closedPort}`, '--cache-dir', join(dir, 'cache'), ...args],
      {
        ...TALKATIVE,
        ...env,
      },
    );

  it('fails to fetch a repository URL with a token without printing it, and warns that ps shows it', async () => {
    const run = await sync(['--repo', `http://reader:${TOKEN}@127.0.0.1:${closedPort}/config.git`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`cannot fetch from http://127.0.0.1:${closedPort}/config.git: ECONNREFUSED`);
    expect(run.stderr).toContain('the credentials in --repo are visible to every user of this machine (ps)');
    expect(run.stderr).not.toContain(TOKEN);
  });

  it('fetches with CAIRN_GIT_TOKEN or a credential file, and names neither a wrong token nor the file lines', async () => {
    // The server lets it in (no 401); ZooKeeper is not there, so the run fails after the fetch.
    // The token goes with the URL's user name.
    const withToken = await sync(['--repo', privateUrl.replace('http://', 'http://reader@')], {
      CAIRN_GIT_TOKEN: TOKEN,
    });
    expect(withToken.stderr).toContain('could not connect to ZooKeeper');
    // A user name alone in --repo is no secret: no warning.
    expect(withToken.stderr).not.toContain('visible to every user');
    expect(withToken.stderr).not.toContain('HTTP 401');
    expect(withToken.stderr).not.toContain(TOKEN);
    const file = join(dir, 'git-credentials');
    await writeFile(file, `${privateUrl.replace('http://', `http://reader:${TOKEN}@`)}\n`, { mode: 0o600 });
    const withFile = await sync(['--repo', privateUrl, '--git-credentials-file', file]);
    expect(withFile.stderr).toContain('could not connect to ZooKeeper');
    expect(withFile.stderr).not.toContain('HTTP 401');
    expect(withFile.stderr).not.toContain(TOKEN);

    const wrong = await sync(['--repo', privateUrl], { CAIRN_GIT_TOKEN: 'wr0ng-t0ken-value' });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(
      'the server answered HTTP 401 Unauthorized: give credentials that may read it with --git-credentials-file or CAIRN_GIT_TOKEN',
    );
    expect(wrong.stderr).not.toContain('wr0ng-t0ken-value');
  }, 60_000);

  it('refuses a bad webhook secret file by its path alone, and warns of --webhook-secret on the command line', async () => {
    const twoLines = join(dir, 'two-lines');
    await writeFile(twoLines, 'hook-s3cret-one\nhook-s3cret-two\n');
    const run = await sync(['--repo', privateUrl, '--listen', '0', '--webhook-secret-file', twoLines]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--webhook-secret-file ${twoLines} holds more than one line`);
    expect(run.stderr).not.toMatch(/hook-s3cret/);
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    expect(
      (await sync(['--repo', privateUrl, '--listen', '0', '--webhook-secret-file', empty])).stderr,
    ).toContain(`--webhook-secret-file ${empty} is empty: write the secret of the GitHub webhook in it`);
    const missing = join(dir, 'absent');
    expect(
      (await sync(['--repo', privateUrl, '--listen', '0', '--webhook-secret-file', missing])).stderr,
    ).toContain(`--webhook-secret-file ${missing} cannot be read (ENOENT)`);

    const inArguments = await sync(['--repo', privateUrl, '--webhook-secret', 'hook-s3cret-arg'], {
      CAIRN_GIT_TOKEN: TOKEN,
    });
    expect(inArguments.stderr).toContain('--webhook-secret is visible to every user of this machine (ps)');
    expect(inArguments.stderr).not.toContain('hook-s3cret-arg');
  }, 60_000);

  it('masks a secret of the environment in any message of any command', async () => {
    const run = await runCliCaptured(['validate', join(dir, 'hook-s3cret-env')], {
      CAIRN_WEBHOOK_SECRET: 'hook-s3cret-env',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(join(dir, '[redacted]'));
    expect(run.stderr).not.toContain('hook-s3cret-env');
    const zk = await runCliCaptured(['validate', join(dir, 'zk-pa55word-two')], {
      CAIRN_ZK_AUTH: 'syncer:zk-pa55word-one,agent:zk-pa55word-two',
    });
    expect(zk.stderr).toContain(join(dir, '[redacted]'));
    expect(zk.stderr).not.toContain('zk-pa55word');
  });
});
