import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DeployedVersions } from './deployed-versions.js';

describe('the versions a host runs', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  const store = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-versions-'));
    dirs.push(dir);
    return { dir, versions: new DeployedVersions(dir) };
  };

  it('keeps each environment’s version across restarts, writes one at a time', async () => {
    const { dir, versions } = await store();
    expect(await versions.get('search-api/prod')).toBeUndefined();
    const at = '2026-03-01T10:00:00.000Z';
    await Promise.all([
      versions.set('search-api/prod', { version: 'v2', deployment: 'd-0000000002', at }),
      versions.set('recommender/prod', { version: 'v7', deployment: 'd-0000000009', at }),
    ]);
    const again = new DeployedVersions(dir);
    expect(await again.get('search-api/prod')).toEqual({ version: 'v2', deployment: 'd-0000000002', at });
    expect(await again.get('recommender/prod')).toMatchObject({ version: 'v7' });
    expect(JSON.parse(await readFile(join(dir, 'deployed-versions.json'), 'utf8'))).toHaveProperty(
      'search-api/prod',
    );
  });

  it('treats a damaged file as knowing nothing: every task then runs its command', async () => {
    const { dir, versions } = await store();
    await writeFile(join(dir, 'deployed-versions.json'), '{ not json');
    expect(await versions.get('search-api/prod')).toBeUndefined();
  });
});
