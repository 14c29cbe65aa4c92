import { describe, expect, it } from 'vitest';
import { DEFAULT_BOT_SETTINGS, readBotSettings } from './settings.js';

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

  it('refuses a value it cannot use, naming the variable', () => {
    expect(() => readBotSettings({ CAIRN_NOTES_REF: 'refs/heads/main' })).toThrow(
      /CAIRN_NOTES_REF="refs\/heads\/main" is not a notes ref/,
    );
    expect(() => readBotSettings({ CAIRN_BLOB_CONCURRENCY: '0' })).toThrow(
      /CAIRN_BLOB_CONCURRENCY="0" must be a whole number from 1 to 64/,
    );
  });
});
