import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readFile, rename, rmdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** How a written file is set: permission bits, and an owner when the agent may give one. */
export interface FileSettings {
  readonly mode: number;
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/**
 * Writes `bytes` to `path` so that no reader ever sees a partial file: a temp file in the same
 * folder (created exclusively, never following a link), written, fsynced, given its mode and owner,
 * renamed over the target, and the folder fsynced so the rename survives a crash. A rename replaces a
 * link planted at `path` itself, never what it points to. There is no in-place fallback. Returns
 * 'unchanged' without writing when the file already holds these bytes with this mode and owner.
 */
export async function writeAtomically(
  path: string,
  bytes: Uint8Array,
  settings: FileSettings,
): Promise<'written' | 'unchanged'> {
  if (await holds(path, bytes, settings)) return 'unchanged';
  const temp = join(dirname(path), `.${basename(path)}.cairn-${randomBytes(6).toString('hex')}.tmp`);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  try {
    const handle = await open(temp, flags, settings.mode);
    try {
      await handle.writeFile(bytes);
      await handle.chmod(settings.mode);
      if (settings.owner) await handle.chown(settings.owner.uid, settings.owner.gid);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => {
      // Never created, or already renamed: nothing to clean.
    });
    throw error;
  }
  await syncFolder(dirname(path));
  return 'written';
}

/**
 * Removes a file the agent wrote (a link in its place is removed itself, never followed), then
 * the folders left empty up to `root`.
 */
export async function removeFile(root: string, path: string): Promise<void> {
  const stat = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!stat || stat.isDirectory()) return;
  await unlink(path);
  await syncFolder(dirname(path));
  for (let folder = dirname(path); folder.startsWith(`${root}/`); folder = dirname(folder)) {
    const removed = await rmdir(folder).then(
      () => true,
      () => false, // not empty (or not ours to remove): stop here
    );
    if (!removed) break;
  }
}

/** The bytes of a regular file, or undefined when there is none (missing, a link, a folder). */
export async function readRegularFile(path: string): Promise<Uint8Array | undefined> {
  const stat = await lstat(path).catch(() => undefined);
  if (!stat?.isFile()) return undefined;
  return readFile(path).catch(() => undefined);
}

async function holds(path: string, bytes: Uint8Array, settings: FileSettings): Promise<boolean> {
  const stat = await lstat(path).catch(() => undefined);
  if (!stat?.isFile() || stat.size !== bytes.length || (stat.mode & 0o7777) !== settings.mode) return false;
  if (settings.owner && (stat.uid !== settings.owner.uid || stat.gid !== settings.owner.gid)) return false;
  const current = await readFile(path).catch(() => undefined);
  return (
    current !== undefined && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(current)
  );
}

/** Makes a rename or an unlink in `folder` durable. Some file systems refuse fsync on a folder. */
export async function syncFolder(folder: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Best effort: the files themselves were fsynced; only the entry's durability is at stake.
  } finally {
    await handle?.close();
  }
}
