import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationCache } from './validation-cache.js';

const scratch = async () =>
  join(await mkdtemp(join(tmpdir(), 'cairn-validation-cache-')), 'cache', 'verdicts.json');
/** A file written by hand where the cache keeps its own. */
const writeByHand = async (path: string, text: string) => {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
};
/** The file's lines, parsed: the header, then each `[key, verdict]`. */
const linesOf = async (path: string): Promise<unknown[]> =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
const keysIn = async (path: string) =>
  (await linesOf(path))
    .slice(1)
    .map((entry) => (entry as [string, unknown])[0])
    .sort();

describe('the validation cache file', () => {
  it('keeps verdicts from one run to the next', async () => {
    const path = await scratch();
    const first = await ValidationCache.open(path, 'v1');
    first.set('yaml:abc', {});
    first.set('service:def', { value: { apiVersion: 'cairn/v1' } });
    await first.save();
    const second = await ValidationCache.open(path, 'v1');
    expect(second.get('yaml:abc')).toEqual({});
    expect(second.get('service:def')).toEqual({ value: { apiVersion: 'cairn/v1' } });
    expect(second.get('yaml:other')).toBeUndefined();
  });

  it('drops verdicts kept by another version of the validator', async () => {
    const path = await scratch();
    const old = await ValidationCache.open(path, 'v1');
    old.set('yaml:abc', {});
    await old.save();
    const upgraded = await ValidationCache.open(path, 'v2');
    expect(upgraded.get('yaml:abc')).toBeUndefined();
    expect(upgraded.size).toBe(0);
  });

  it('starts empty from a corrupt file, saying why, and replaces it', async () => {
    const path = await scratch();
    await writeByHand(path, '{"version": "v1", "verdicts": {"yaml:abc": {}');
    const reasons: string[] = [];
    const reopened = await ValidationCache.open(path, 'v1', (reason) => reasons.push(reason));
    expect(reasons).toEqual(['not a validation cache file']);
    expect(reopened.size).toBe(0);
    reopened.set('yaml:def', {});
    await reopened.save();
    expect(await linesOf(path)).toEqual([{ version: 'v1' }, ['yaml:def', {}]]);
  });

  it('skips lines that are not verdicts (a torn append), and rewrites the file at the next save', async () => {
    const path = await scratch();
    const first = await ValidationCache.open(path, 'v1');
    first.set('yaml:abc', {});
    await first.save();
    await appendFile(path, '["yaml:number", 5]\n["yaml:null", null]\n["yaml:torn", {');
    const reopened = await ValidationCache.open(path, 'v1');
    expect(reopened.size).toBe(1);
    expect(reopened.get('yaml:number')).toBeUndefined();
    expect(reopened.get('yaml:abc')).toEqual({});
    await reopened.save();
    expect(await linesOf(path)).toEqual([{ version: 'v1' }, ['yaml:abc', {}]]);
  });

  it('reads the single-object file of earlier versions, and rewrites it as lines', async () => {
    const path = await scratch();
    await writeByHand(path, JSON.stringify({ version: 'v1', verdicts: { 'yaml:a': {}, 'yaml:bad': 5 } }));
    const reopened = await ValidationCache.open(path, 'v1');
    expect(reopened.get('yaml:a')).toEqual({});
    expect(reopened.size).toBe(1);
    await reopened.save();
    expect(await linesOf(path)).toEqual([{ version: 'v1' }, ['yaml:a', {}]]);
  });

  it('leaves the file alone when this run added nothing (an unchanged restart)', async () => {
    const path = await scratch();
    const first = await ValidationCache.open(path, 'v1');
    first.set('yaml:a', {});
    first.set('yaml:b', {});
    await first.save();
    const restarted = await ValidationCache.open(path, 'v1');
    restarted.get('yaml:a');
    restarted.get('yaml:b');
    // A marker the save would overwrite or extend if it wrote.
    await writeFile(path, 'untouched');
    await restarted.save();
    expect(await readFile(path, 'utf8')).toBe('untouched');
  });

  it('appends only what was set since the last save: a commit costs what it changed', async () => {
    const path = await scratch();
    const cache = await ValidationCache.open(path, 'v1');
    for (let i = 0; i < 100; i++) cache.set(`yaml:${i}`, {});
    await cache.save();
    const before = await readFile(path, 'utf8');
    cache.set('yaml:new', { value: 1 });
    await cache.save();
    expect(await readFile(path, 'utf8')).toBe(`${before}${JSON.stringify(['yaml:new', { value: 1 }])}\n`);
    // A verdict set again is a later line, which wins.
    cache.set('yaml:new', { value: 2 });
    await cache.save();
    expect((await ValidationCache.open(path, 'v1')).get('yaml:new')).toEqual({ value: 2 });
  });

  it('rewrites the file with the verdicts this run used once it holds more than twice as many', async () => {
    const path = await scratch();
    const first = await ValidationCache.open(path, 'v1');
    for (const key of ['yaml:kept', 'yaml:stale-1', 'yaml:stale-2']) first.set(key, {});
    await first.save();
    const second = await ValidationCache.open(path, 'v1');
    second.get('yaml:kept');
    second.set('yaml:new', {});
    await second.save();
    // Three lines and one more against two used: within twice, appended.
    expect(await keysIn(path)).toEqual(['yaml:kept', 'yaml:new', 'yaml:stale-1', 'yaml:stale-2']);
    const third = await ValidationCache.open(path, 'v1');
    third.get('yaml:new');
    third.set('yaml:newer', {});
    await third.save();
    // Five lines against two used: rewritten with those two alone.
    expect(await keysIn(path)).toEqual(['yaml:new', 'yaml:newer']);
  });

  it('writes the verdicts of this version over a file of another, even when it sets none', async () => {
    const path = await scratch();
    await writeByHand(path, `${JSON.stringify({ version: 'v0' })}\n${JSON.stringify(['yaml:a', {}])}\n`);
    await (await ValidationCache.open(path, 'v1')).save();
    expect(await linesOf(path)).toEqual([{ version: 'v1' }]);
  });

  it('tries a failed write again on the next save', async () => {
    const path = await scratch();
    const cache = await ValidationCache.open(path, 'v1');
    cache.set('yaml:a', {});
    // A folder where the file's temporary would be renamed makes the write fail.
    await mkdir(path, { recursive: true });
    await expect(cache.save()).rejects.toThrow();
    await rm(path, { recursive: true });
    await cache.save();
    expect(await linesOf(path)).toEqual([{ version: 'v1' }, ['yaml:a', {}]]);
  });

  it('tries a failed append again as a rewrite', async () => {
    const path = await scratch();
    const cache = await ValidationCache.open(path, 'v1');
    cache.set('yaml:a', {});
    await cache.save();
    cache.set('yaml:b', {});
    await rm(path);
    await mkdir(path);
    await expect(cache.save()).rejects.toThrow();
    await rm(path, { recursive: true });
    await cache.save();
    expect(await keysIn(path)).toEqual(['yaml:a', 'yaml:b']);
  });

  it('hands the event loop back while it writes many verdicts, and saves what is set meanwhile next time', async () => {
    const path = await scratch();
    // Every reading of this clock finds the slice spent: a turn after each line.
    let clock = 0;
    const cache = await ValidationCache.open(path, 'v1', undefined, { sliceMs: 1, now: () => (clock += 2) });
    const keys = Array.from({ length: 50 }, (_, i) => `yaml:${String(i).padStart(2, '0')}`);
    for (const key of keys) cache.set(key, {});
    let turns = 0;
    let saving = true;
    const tick = () => {
      if (!saving) return;
      if (turns++ === 0) cache.set('yaml:meanwhile', {});
      setImmediate(tick);
    };
    setImmediate(tick);
    await cache.save();
    saving = false;
    expect(turns).toBeGreaterThanOrEqual(keys.length - 1);
    expect(await keysIn(path)).toEqual(keys);
    await cache.save();
    expect(await keysIn(path)).toEqual([...keys, 'yaml:meanwhile']);
  });

  it('runs saves one at a time, losing nothing set meanwhile', async () => {
    const path = await scratch();
    const cache = await ValidationCache.open(path, 'v1');
    const saves: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      cache.set(`yaml:${i}`, {});
      saves.push(cache.save());
    }
    await Promise.all(saves);
    const reopened = await ValidationCache.open(path, 'v1');
    expect(reopened.size).toBe(20);
  });
});
