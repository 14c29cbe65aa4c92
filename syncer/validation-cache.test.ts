import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationCache } from './validation-cache.js';

const scratch = async () =>
  join(await mkdtemp(join(tmpdir(), 'cairn-validation-cache-')), 'cache', 'verdicts.json');

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
});
