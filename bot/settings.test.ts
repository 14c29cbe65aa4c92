import { describe, expect, it } from 'vitest';
import { DEFAULT_APPLIED_DEADLINE_MS, DEFAULT_BOT_SETTINGS, readBotSettings } from './settings.js';

describe('readBotSettings', () => {
  it('uses the defaults when nothing is set', () => {
    expect(readBotSettings({})).toEqual(DEFAULT_BOT_SETTINGS);
  });

  it('reads CAIRN_* variables', () => {
    expect(
      readBotSettings({
        CAIRN_NOTES_REF: 'refs/notes/audit',
        CAIRN_BLOB_CONCURRENCY: '4',
        CAIRN_BLOB_CACHE_MB: '1',
      }),
    ).toEqual({
      notesRef: 'refs/notes/audit',
      blobConcurrency: 4,
      blobCacheBytes: 1024 * 1024,
    });
  });

  it('turns the applied checks on with a ZooKeeper and a repository', () => {
    const settings = readBotSettings({
      CAIRN_ZK: 'zk1:2181,zk2:2181',
      CAIRN_ZK_ROOT: '/cairn-prod',
      CAIRN_REPOSITORY: 'northwind/platform-config',
      CAIRN_APPLIED_DEADLINE: '45m',
    });
    expect(settings.appliedChecks).toMatchObject({
      endpoint: { connectString: 'zk1:2181,zk2:2181', layout: { root: '/cairn-prod' } },
      repository: { owner: 'northwind', repo: 'platform-config' },
      deadlineMs: 45 * 60_000,
    });
    expect(
      readBotSettings({ CAIRN_ZK: 'zk1:2181', CAIRN_REPOSITORY: 'northwind/platform-config' }).appliedChecks
        ?.deadlineMs,
    ).toBe(DEFAULT_APPLIED_DEADLINE_MS);
    expect(readBotSettings({}).appliedChecks).toBeUndefined();
  });

  it('refuses half the applied checks’ settings, or a malformed one, naming the variable', () => {
    expect(() => readBotSettings({ CAIRN_ZK: 'zk1:2181' })).toThrow(
      /CAIRN_ZK is set but CAIRN_REPOSITORY is not: set it to the config repository the syncer mirrors, as owner\/name/,
    );
    expect(() => readBotSettings({ CAIRN_REPOSITORY: 'northwind/platform-config' })).toThrow(
      /CAIRN_REPOSITORY is set but CAIRN_ZK is not/,
    );
    expect(() => readBotSettings({ CAIRN_ZK: 'zk1:2181', CAIRN_REPOSITORY: 'platform-config' })).toThrow(
      /CAIRN_REPOSITORY="platform-config" is not a repository: use owner\/name/,
    );
    const both = { CAIRN_REPOSITORY: 'northwind/platform-config' };
    expect(() => readBotSettings({ ...both, CAIRN_ZK: 'zk1' })).toThrow(
      /^CAIRN_ZK: "zk1" is not a host:port list/,
    );
    expect(() => readBotSettings({ ...both, CAIRN_ZK: 'zk1:2181', CAIRN_ZK_ROOT: 'cairn' })).toThrow(
      /^CAIRN_ZK_ROOT: /,
    );
    expect(() =>
      readBotSettings({ ...both, CAIRN_ZK: 'zk1:2181', CAIRN_ZK_SESSION_TIMEOUT: 'soon' }),
    ).toThrow(/^CAIRN_ZK_SESSION_TIMEOUT "soon" is not a duration/);
    expect(() => readBotSettings({ ...both, CAIRN_ZK: 'zk1:2181', CAIRN_APPLIED_DEADLINE: 'later' })).toThrow(
      /^CAIRN_APPLIED_DEADLINE "later" is not a duration/,
    );
  });

  it('refuses a value it cannot use, naming the variable', () => {
    expect(() => readBotSettings({ CAIRN_NOTES_REF: 'refs/heads/main' })).toThrow(
      /CAIRN_NOTES_REF="refs\/heads\/main" is not a notes ref/,
    );
    expect(() => readBotSettings({ CAIRN_BLOB_CONCURRENCY: '0' })).toThrow(
      /CAIRN_BLOB_CONCURRENCY="0" must be a whole number from 1 to 64/,
    );
  });
});
