import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnsafeTargetError } from './errors.js';
import { existingTargetInside, realDirectory, stillInside, targetInside } from './safe-paths.js';

describe('where the agent may write', () => {
  let base: string;
  let root: string;
  let outside: string;
  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'cairn-safe-'));
    root = await realDirectory(join(base, 'etc/app'));
    outside = join(base, 'outside');
    await mkdir(outside);
  });
  afterEach(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('places a file inside the directory and creates its folders', async () => {
    expect(await targetInside(root, 'conf.d/rules/a.yaml')).toBe(join(root, 'conf.d/rules/a.yaml'));
    expect(await readdir(join(root, 'conf.d'))).toEqual(['rules']);
  });

  it.each([['../escape.yaml'], ['/etc/passwd'], ['a/../../escape.yaml'], ['a//b.yaml'], ['']])(
    'refuses the path %j before touching anything',
    async (file) => {
      await expect(targetInside(root, file)).rejects.toBeInstanceOf(UnsafeTargetError);
      expect(await readdir(root)).toEqual([]);
    },
  );

  it('refuses a path through a symbolic link planted in the directory, and through a file', async () => {
    await symlink(outside, join(root, 'linked'));
    await expect(targetInside(root, 'linked/a.yaml')).rejects.toMatchObject({
      code: 'UNSAFE_TARGET',
      message: expect.stringContaining('symbolic link'),
    });
    await writeFile(join(root, 'plain'), 'x');
    await expect(targetInside(root, 'plain/a.yaml')).rejects.toMatchObject({
      message: expect.stringContaining('not a folder'),
    });
    expect(await readdir(outside)).toEqual([]);
  });

  it('does not create folders for a file about to be removed', async () => {
    expect(await existingTargetInside(root, 'gone/a.yaml')).toBeUndefined();
    expect(await readdir(root)).toEqual([]);
  });

  it('tells whether a written path still resolves inside the directory', async () => {
    expect(await stillInside(root, join(root, 'a.yaml'))).toBe(true);
    await symlink(outside, join(root, 'linked'));
    expect(await stillInside(root, join(root, 'linked/a.yaml'))).toBe(false);
  });
});
