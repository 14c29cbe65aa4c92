import { lstat, mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { unsafePathReason } from '../core/index.js';
import { UnsafeTargetError } from './errors.js';

/**
 * The absolute path of `file` (a path from a manifest, relative to the service's directory) inside
 * `root`, with its parent folders created. Refuses, with UnsafeTargetError and before anything is
 * written, a path that is absolute, has `..` or empty segments, or crosses a symbolic link or a
 * non-folder on its way: a link planted in the directory never redirects a write elsewhere.
 * `root` must be the real path of the service's directory (see `realDirectory`).
 */
export async function targetInside(root: string, file: string): Promise<string> {
  return (await checkedTarget(root, file, true)) as string;
}

/** Like targetInside, for a file about to be removed: undefined when a folder on its way is missing. */
export async function existingTargetInside(root: string, file: string): Promise<string | undefined> {
  return checkedTarget(root, file, false);
}

async function checkedTarget(root: string, file: string, create: boolean): Promise<string | undefined> {
  const unsafe = unsafePathReason(file);
  if (unsafe) throw new UnsafeTargetError(root, file, unsafe);
  const target = join(root, file);
  const fromRoot = relative(root, target);
  if (fromRoot.startsWith('..') || isAbsolute(fromRoot))
    throw new UnsafeTargetError(root, file, 'it leaves the directory');
  const folders = fromRoot.split(sep).slice(0, -1);
  let current = root;
  for (const folder of folders) {
    current = join(current, folder);
    const stat = await lstat(current).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!stat) {
      if (!create) return undefined;
      await mkdir(current, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      // Someone may have planted a link in the moment between the look and the mkdir: look again.
      const made = await lstat(current);
      if (!made.isDirectory() || made.isSymbolicLink())
        throw new UnsafeTargetError(root, file, `${current} changed while it was created`);
    } else if (stat.isSymbolicLink()) {
      throw new UnsafeTargetError(root, file, `${current} is a symbolic link`);
    } else if (!stat.isDirectory()) {
      throw new UnsafeTargetError(root, file, `${current} is not a folder`);
    }
  }
  return target;
}

/** Whether `path`, after writing, still resolves inside `root` (a last check against link races). */
export async function stillInside(root: string, path: string): Promise<boolean> {
  const parent = await realpath(dirname(path)).catch(() => undefined);
  return parent !== undefined && (parent === root || parent.startsWith(`${root}${sep}`));
}

/** The service's directory, created when missing, as its real path: what every target is checked against. */
export async function realDirectory(directory: string): Promise<string> {
  await mkdir(directory, { recursive: true, mode: 0o755 });
  return realpath(directory);
}
