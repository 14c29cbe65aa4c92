import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
    const first = await ValidationCache.open(path, 'v1');
    first.set('yaml:abc', {});
    await first.save();
    await writeFile(path, '{"version": "v1", "verdicts": {"yaml:abc": {}');
    const reasons: string[] = [];
    const reopened = await ValidationCache.open(path, 'v1', (reason) => reasons.push(reason));
    expect(reasons).toEqual(['not a validation cache file']);
    expect(reopened.size).toBe(0);
    reopened.set('yaml:def', {});
    await reopened.save();
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 'v1', verdicts: { 'yaml:def': {} } });
  });

  it('ignores entries that are not verdicts', async () => {
    const path = await scratch();
    await (await ValidationCache.open(path, 'v1')).save();
    const first = await ValidationCache.open(path, 'v1');
    first.set('yaml:abc', {});
    await first.save();
    const content = JSON.parse(await readFile(path, 'utf8'));
    content.verdicts['yaml:number'] = 5;
    content.verdicts['yaml:null'] = null;
    await writeFile(path, JSON.stringify(content));
    const reopened = await ValidationCache.open(path, 'v1');
    expect(reopened.size).toBe(1);
    expect(reopened.get('yaml:number')).toBeUndefined();
  });

  it('writes back only the verdicts this run used, so it never grows beyond the commits read', async () => {
    const path = await scratch();
    const first = await ValidationCache.open(path, 'v1');
    first.set('yaml:kept', {});
    first.set('yaml:stale', {});
    await first.save();
    const second = await ValidationCache.open(path, 'v1');
    second.get('yaml:kept');
    second.set('yaml:new', {});
    await second.save();
    expect(Object.keys(JSON.parse(await readFile(path, 'utf8')).verdicts).sort()).toEqual([
      'yaml:kept',
      'yaml:new',
    ]);
  });

  it('leaves the file alone when this run used exactly the verdicts it holds (an unchanged restart)', async () => {
    const path = await scratch();
    const first = await ValidationCache.open(path, 'v1');
    first.set('yaml:a', {});
    first.set('yaml:b', {});
    await first.save();
    const restarted = await ValidationCache.open(path, 'v1');
    restarted.get('yaml:a');
    restarted.get('yaml:b');
    // A marker the save would overwrite if it wrote.
    await writeFile(path, 'untouched');
    await restarted.save();
    expect(await readFile(path, 'utf8')).toBe('untouched');
  });

  it('writes again once a verdict is added or one more is used, and drops what went unused', async () => {
    const path = await scratch();
    const first = await ValidationCache.open(path, 'v1');
    for (const key of ['yaml:a', 'yaml:b', 'yaml:c']) first.set(key, {});
    await first.save();
    const keys = async () => Object.keys(JSON.parse(await readFile(path, 'utf8')).verdicts).sort();

    const restarted = await ValidationCache.open(path, 'v1');
    restarted.get('yaml:a');
    await restarted.save();
    expect(await keys()).toEqual(['yaml:a']);
    restarted.get('yaml:b');
    await restarted.save();
    expect(await keys()).toEqual(['yaml:a', 'yaml:b']);
    restarted.set('yaml:d', {});
    await restarted.save();
    expect(await keys()).toEqual(['yaml:a', 'yaml:b', 'yaml:d']);
    await writeFile(path, 'untouched');
    restarted.get('yaml:a');
    await restarted.save();
    expect(await readFile(path, 'utf8')).toBe('untouched');
  });

  it('rewrites a file holding entries that are not verdicts, even when every verdict was used', async () => {
    const path = await scratch();
    await writeByHand(path, JSON.stringify({ version: 'v1', verdicts: { 'yaml:a': {}, 'yaml:bad': 5 } }));
    const reopened = await ValidationCache.open(path, 'v1');
    reopened.get('yaml:a');
    await reopened.save();
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 'v1', verdicts: { 'yaml:a': {} } });
  });

  it('writes the verdicts of this version over a file of another, even when it sets none', async () => {
    const path = await scratch();
    await writeByHand(path, JSON.stringify({ version: 'v0', verdicts: { 'yaml:a': {} } }));
    await (await ValidationCache.open(path, 'v1')).save();
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 'v1', verdicts: {} });
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
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ version: 'v1', verdicts: { 'yaml:a': {} } });
  });
});
