import { describe, expect, it } from 'vitest';
import { DEFAULT_GIT_TIMEOUT_MS } from './git/index.js';
import { resolveSyncerConfig } from './syncer-config.js';

const REQUIRED = { repo: 'https://git.example.com/org/config.git', zk: '127.0.0.1:2181' };
const HOST = { hostname: 'test', pid: 1 };

describe('the git fetch deadline of a syncer', () => {
  it('is 30 s unless set', () => {
    expect(resolveSyncerConfig(REQUIRED, {}, HOST).gitTimeoutMs).toBe(DEFAULT_GIT_TIMEOUT_MS);
    expect(DEFAULT_GIT_TIMEOUT_MS).toBe(30_000);
  });

  it('is set by --git-timeout, else by CAIRN_GIT_TIMEOUT, as a duration', () => {
    const env = { CAIRN_GIT_TIMEOUT: '2m' };
    expect(resolveSyncerConfig(REQUIRED, env, HOST).gitTimeoutMs).toBe(120_000);
    expect(resolveSyncerConfig({ ...REQUIRED, gitTimeout: '90s' }, env, HOST).gitTimeoutMs).toBe(90_000);
  });

  it('refuses what is not a duration, or less than a second, naming the flag', () => {
    expect(() => resolveSyncerConfig({ ...REQUIRED, gitTimeout: 'soon' }, {}, HOST)).toThrow(
      /--git-timeout "soon" is not a duration/,
    );
    expect(() => resolveSyncerConfig(REQUIRED, { CAIRN_GIT_TIMEOUT: '200ms' }, HOST)).toThrow(
      /--git-timeout "200ms" is too short: at least 1000ms/,
    );
  });
});
