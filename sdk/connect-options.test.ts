import { mkdtemp, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConnectOptions, resolveConnectOptions } from './connect-options.js';

const base = { zk: 'zk1:2181,zk2:2181', service: 'recommender', env: 'prod' };

describe('resolveConnectOptions', () => {
  it('fills defaults: root, timeouts, a registration on this host with a unique id, no cache', () => {
    const resolved = resolveConnectOptions(base);
    expect(resolved).toMatchObject({
      connectString: 'zk1:2181,zk2:2181',
      connectTimeoutMs: 5000,
      sessionTimeoutMs: 10_000,
      requestTimeoutMs: 5000,
      cacheDir: undefined,
      instance: { host: hostname() },
      validatedFiles: [],
    });
    expect(resolved.layout.root).toBe('/cairn');
    expect(resolved.instance?.id).toMatch(new RegExp(`^${hostname()}-${process.pid}-[0-9a-f]{6}$`));
    expect(resolveConnectOptions(base).instance?.id).not.toBe(resolved.instance?.id);
    expect(resolveConnectOptions({ ...base, instance: false }).instance).toBeUndefined();
    expect(resolveConnectOptions({ ...base, zk: 'zk1:2181/apps', root: '/cairn-b' }).layout.root).toBe(
      '/cairn-b',
    );
  });

  it('names the option that cannot work', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, zk: '' }, 'zk'],
      [{ ...base, zk: 'localhost' }, 'zk'],
      [{ ...base, zk: 'a:1, b:2' }, 'zk'],
      [{ ...base, service: 'Recommender' }, 'service'],
      [{ ...base, service: undefined }, 'service'],
      [{ ...base, env: '../prod' }, 'env'],
      [{ ...base, root: 'cairn' }, 'root'],
      [{ ...base, root: '/cairn/../x' }, 'root'],
      [{ ...base, connectTimeoutMs: -1 }, 'connectTimeoutMs'],
      [{ ...base, sessionTimeoutMs: Number.NaN }, 'sessionTimeoutMs'],
      [{ ...base, requestTimeoutMs: 0 }, 'requestTimeoutMs'],
      [{ ...base, cacheDir: '' }, 'cacheDir'],
      [{ ...base, instance: 'yes' }, 'instance'],
      [{ ...base, instance: { port: 70000 } }, 'instance.port'],
      [{ ...base, instance: { port: 1.5 } }, 'instance.port'],
      [{ ...base, instance: { host: 'a b' } }, 'instance.host'],
      [{ ...base, instance: { id: '..' } }, 'instance.id'],
      [{ ...base, instance: { id: 'a/b' } }, 'instance.id'],
      [{ ...base, validate: 'all' }, 'validate'],
      [{ ...base, validate: { 'a.yaml': 42 } }, 'validate["a.yaml"]'],
      [{ ...base, validate: { 'a.yaml': { type: 'no-such-type' } } }, 'validate["a.yaml"]'],
    ];
    for (const [options, option] of cases) {
      expect(() => resolveConnectOptions(options as unknown as ConnectOptions, {}), option).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS', option }),
      );
    }
    expect(() => resolveConnectOptions(undefined as unknown as ConnectOptions)).toThrow(
      expect.objectContaining({ option: 'options' }),
    );
  });
});

describe('options from the environment', () => {
  const variables = {
    CAIRN_ZK: 'zk9:2181',
    CAIRN_ZK_ROOT: '/cairn-qa',
    CAIRN_ZK_AUTH: 'recommender:s3cret',
    CAIRN_ZK_SESSION_TIMEOUT: '30s',
    CAIRN_SERVICE: 'search-api',
    CAIRN_ENV: 'staging',
  };

  it('takes zk, root, credentials, timeouts, service and env from CAIRN_* when not given', () => {
    const resolved = resolveConnectOptions({}, variables);
    expect(resolved).toMatchObject({
      connectString: 'zk9:2181',
      service: 'search-api',
      env: 'staging',
      sessionTimeoutMs: 30_000,
      connectTimeoutMs: 5000,
    });
    expect(resolved.layout.root).toBe('/cairn-qa');
    expect(resolved.endpoint.auth?.map(({ scheme, credentials }) => ({ scheme, credentials }))).toEqual([
      { scheme: 'digest', credentials: 'recommender:s3cret' },
    ]);
  });

  it('reads credentials from the file CAIRN_ZK_AUTH_FILE (or authFile) names, and refuses two sources', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-sdk-auth-'));
    const file = join(dir, 'cairn-sdk.auth');
    await writeFile(file, '# Cairn sdk credentials\ncairn-sdk:from-a-file\n', { mode: 0o600 });
    const { CAIRN_ZK_AUTH: _, ...withoutAuth } = variables;
    const resolved = resolveConnectOptions({}, { ...withoutAuth, CAIRN_ZK_AUTH_FILE: file });
    expect(resolved.endpoint.auth?.map((auth) => auth.credentials)).toEqual(['cairn-sdk:from-a-file']);
    expect(() => resolveConnectOptions({}, { ...variables, CAIRN_ZK_AUTH_FILE: file })).toThrow(
      expect.objectContaining({ option: 'authFile', message: expect.stringMatching(/keep one/) }),
    );
    expect(() =>
      resolveConnectOptions({}, { ...withoutAuth, CAIRN_ZK_AUTH_FILE: join(dir, 'missing.auth') }),
    ).toThrow(
      expect.objectContaining({
        option: 'authFile',
        variable: 'CAIRN_ZK_AUTH_FILE',
        message: expect.stringMatching(/cannot read the credentials file .*ENOENT/),
      }),
    );
  });

  it('lets an option given win over its variable', () => {
    const resolved = resolveConnectOptions({ ...base, root: '/cairn', sessionTimeoutMs: 4000 }, variables);
    expect(resolved).toMatchObject({
      connectString: 'zk1:2181,zk2:2181',
      service: 'recommender',
      env: 'prod',
    });
    expect(resolved.sessionTimeoutMs).toBe(4000);
    expect(resolved.layout.root).toBe('/cairn');
  });

  it('names the option and its variable when one is missing or malformed', () => {
    const cases: [Record<string, string>, string, string | undefined, RegExp][] = [
      [{}, 'zk', undefined, /set CAIRN_ZK/],
      [{ CAIRN_ZK: 'zk1:2181' }, 'service', undefined, /set CAIRN_SERVICE/],
      [{ CAIRN_ZK: 'zk1:2181', CAIRN_SERVICE: 'a' }, 'env', undefined, /set CAIRN_ENV/],
      [{ ...variables, CAIRN_ZK: 'nowhere' }, 'zk', 'CAIRN_ZK', /\(from CAIRN_ZK\)/],
      [{ ...variables, CAIRN_ENV: 'Prod' }, 'env', 'CAIRN_ENV', /\(from CAIRN_ENV\)/],
      [{ ...variables, CAIRN_ZK_ROOT: 'cairn' }, 'root', 'CAIRN_ZK_ROOT', /\(from CAIRN_ZK_ROOT\)/],
      [{ ...variables, CAIRN_ZK_AUTH: 'no-password' }, 'auth', 'CAIRN_ZK_AUTH', /user:password/],
      [
        { ...variables, CAIRN_ZK_SESSION_TIMEOUT: 'soon' },
        'sessionTimeoutMs',
        'CAIRN_ZK_SESSION_TIMEOUT',
        /500ms/,
      ],
    ];
    for (const [env, option, variable, message] of cases) {
      expect(() => resolveConnectOptions({}, env), option).toThrow(
        expect.objectContaining({
          code: 'INVALID_OPTIONS',
          option,
          variable,
          message: expect.stringMatching(message),
        }),
      );
    }
    // An empty variable is as good as none.
    expect(() => resolveConnectOptions({}, { ...variables, CAIRN_ZK: '' })).toThrow(
      expect.objectContaining({ option: 'zk', variable: undefined }),
    );
  });
});
