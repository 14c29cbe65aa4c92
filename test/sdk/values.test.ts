import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChangeInfo, connect, type ServiceConfig, type StandardSchemaV1 } from '../../sdk/index.js';
import { waitFor } from '../harness/index.js';
import { type SyncerFixture, startSyncerFixture } from '../support/syncer-fixture.js';
import { type BoundMirror, boundMirror, commitAndSync, recordEvents } from './sdk-test-support.js';

/** What a Zod or Valibot schema exposes, written out: a positive integer up to a bound. */
function positiveInteger(max: number): StandardSchemaV1<unknown, number> {
  return {
    '~standard': {
      version: 1,
      vendor: 'example',
      validate: (value) =>
        Number.isInteger(value) && (value as number) > 0 && (value as number) <= max
          ? { value: value as number }
          : { issues: [{ message: `expected a positive integer up to ${max}` }] },
    },
  };
}

describe('values of a file, by key path', () => {
  let f: SyncerFixture;
  let mirror: BoundMirror;
  let config: ServiceConfig;
  beforeAll(async () => {
    f = await startSyncerFixture();
    mirror = boundMirror(f);
    await mirror.sync();
    config = await connect({
      zk: f.zk.connectString,
      service: 'recommender',
      env: 'dev',
      sessionTimeoutMs: 4000,
      instance: false,
    });
  });
  afterAll(async () => {
    await config?.close();
    await f?.close();
  });
  const sync = (message: string, files: Record<string, string | null>) =>
    commitAndSync(f, mirror, message, files);

  it('reads a value by dotted path, array items by index, with defaults and typed by a schema', () => {
    const maxResults: number = config.value('application.yaml', 'ranking.maxResults', { default: 50 });
    expect(maxResults).toBe(40);
    expect(config.value('application.yaml', 'ranking.minResults', { default: 5 })).toBe(5);
    expect(config.value('application.yaml', 'candidates.sources[1]')).toBe('trending');
    const untyped: unknown = config.value('application.yaml', 'ranking.maxResults');
    expect(untyped).toBe(40);
    // @ts-expect-error without a schema or a default, naming a type would be a cast: not allowed
    config.value<number>('application.yaml', 'ranking.maxResults');
    expect(config.value('application.yaml', 'candidates.sources.0')).toBe('watch-history');
    expect(config.value('application.yaml', 'logging.level')).toBe('debug'); // the @dev overlay
    const typed: number = config.value('application.yaml', 'ranking.maxResults', {
      schema: positiveInteger(100),
    });
    expect(typed).toBe(40);
    expect(
      config.value<string>('application.yaml', 'ranking.model', { schema: { type: 'string', minLength: 1 } }),
    ).toBe('gbdt-ranker');
  });

  it('refuses a missing value, a value of the wrong type and a malformed path with coded errors', () => {
    expect(() => config.value('application.yaml', 'ranking.minResults')).toThrow(
      expect.objectContaining({
        code: 'VALUE_NOT_FOUND',
        message: expect.stringContaining('pass { default }'),
      }),
    );
    expect(() => config.value('missing.yaml', 'a')).toThrow(
      expect.objectContaining({ code: 'VALUE_NOT_FOUND' }),
    );
    expect(() => config.value('application.yaml', 'ranking.model', { default: 10 })).toThrow(
      expect.objectContaining({ code: 'VALUE_INVALID', path: 'ranking.model' }),
    );
    expect(() =>
      config.value('application.yaml', 'ranking.maxResults', { schema: positiveInteger(10) }),
    ).toThrow(
      expect.objectContaining({
        code: 'VALUE_INVALID',
        message: expect.stringContaining('expected a positive integer up to 10'),
      }),
    );
    expect(() => config.value('application.yaml', 'ranking..maxResults')).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY_PATH' }),
    );
  });

  it('calls a value watcher only when its value changed, and keeps the last value when a new one is refused', async () => {
    const seen: { value: number | undefined; commit: string }[] = [];
    const levels: string[] = [];
    config.watchValue(
      'application.yaml',
      'ranking.maxResults',
      (value, change: ChangeInfo) => seen.push({ value, commit: change.commit }),
      { schema: positiveInteger(1000) },
    );
    config.watchValue('application.yaml', 'logging.level', (level) => levels.push(level), {
      default: 'info',
    });
    const events = recordEvents(config);

    // Another key of the same file changes: the maxResults watcher is not called.
    await sync('Raise the cache ttl in dev', {
      'services/recommender/config/@dev/application.yaml':
        'cache:\n  ttlSeconds: 60\nlogging:\n  level: debug\n',
    });
    await waitFor(() => events.changes.length === 1, { description: 'the first commit' });
    expect(seen).toEqual([]);
    expect(levels).toEqual([]);

    const fewer = await sync('Fewer results in dev', {
      'services/recommender/config/@dev/application.yaml':
        'cache:\n  ttlSeconds: 60\nranking:\n  maxResults: 25\nlogging:\n  level: debug\n',
    });
    await waitFor(() => seen.length === 1, { description: 'the maxResults watcher' });
    expect(seen).toEqual([{ value: 25, commit: fewer }]);

    await sync('Far too many results', {
      'services/recommender/config/@dev/application.yaml':
        'cache:\n  ttlSeconds: 60\nranking:\n  maxResults: 5000\nlogging:\n  level: null\n',
    });
    await waitFor(() => events.warnings.some((w) => w.code === 'VALUE_INVALID'), {
      description: 'the VALUE_INVALID warning',
    });
    // logging.level fell back to the base file's "info": a change for its watcher.
    await waitFor(() => levels.length === 1, { description: 'the level watcher' });
    expect(levels).toEqual(['info']);
    expect(seen).toHaveLength(1);
    expect(events.warnings.find((w) => w.code === 'VALUE_INVALID')?.message).toContain(
      'expected a positive integer up to 1000',
    );
  });
});
