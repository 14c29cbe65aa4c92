import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { TempFileOwner } from '../core/index.js';

/** How a written file is set: permission bits, and an owner when the agent may give one. */
export interface FileSettings {
  readonly mode: number;
  readonly owner?: { readonly uid: number; readonly gid: number };
}

/** Opens a file for reading without following a link, and without blocking on a FIFO planted there. */
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * A temp file the agent creates beside `name` (dot-named, so that globs like `*.conf` skip it),
 * named by the agent's pid, so that one a killed agent left behind can be told from one being
 * written (agentTempFileOwner).
 */
export function tempName(name: string): string {
  return `.${name}.cairn-${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
}

const TEMP_NAME = /^\..+\.cairn-([1-9][0-9]{0,9})-[0-9a-f]{12}\.tmp$/;

/** The pid that wrote `name` when it is exactly one of tempName's names; otherwise undefined. */
export const agentTempFileOwner: TempFileOwner = (name) => {
  const match = TEMP_NAME.exec(name);
  return match ? Number(match[1]) : undefined;
};

/**
 * Writes `bytes` to `path` so that no reader ever sees a partial file: staged beside it
 * (stageInFolder), renamed over it, and the folder fsynced so that the rename survives a crash. A
 * rename replaces a link planted at the target itself, never what it points to; there is no in-place
 * fallback. Returns 'unchanged' without writing when the file already holds these bytes with this
 * mode and owner. For the agent's own state; a service's files go through ServiceDirectory, which
 * never follows a link and fsyncs each folder once for all the files of a swap.
 */
export async function writeAtomically(
  path: string,
  bytes: Uint8Array,
  settings: FileSettings,
): Promise<'written' | 'unchanged'> {
  const folder = dirname(path);
  const name = basename(path);
  const temp = await stageInFolder(folder, name, bytes, settings);
  if (temp === 'unchanged') return 'unchanged';
  await putInFolder(folder, temp, name);
  await syncFolder(folder);
  return 'written';
}

/**
 * Writes `bytes` to a temp file beside `name` in `folder` (created exclusively, never following a
 * link), fsynced and given its mode and owner, and returns its name: whole and durable, ready to be
 * renamed over the target (putInFolder) or removed. 'unchanged' when the file already holds these
 * bytes with this mode and owner: nothing is written.
 */
export async function stageInFolder(
  folder: string,
  name: string,
  bytes: Uint8Array,
  settings: FileSettings,
): Promise<string | 'unchanged'> {
  if (await holds(join(folder, name), bytes, settings)) return 'unchanged';
  const temp = tempName(name);
  const path = join(folder, temp);
  try {
    const handle = await open(path, CREATE_FLAGS, settings.mode);
    try {
      // What was opened is what the name holds: a regular file, not something swapped in meanwhile.
      const [opened, named] = await Promise.all([handle.stat(), lstat(path)]);
      if (!opened.isFile() || opened.dev !== named.dev || opened.ino !== named.ino)
        throw new Error(`${path} changed while it was opened`);
      await handle.writeFile(bytes);
      await handle.chmod(settings.mode);
      if (settings.owner) await handle.chown(settings.owner.uid, settings.owner.gid);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await discardInFolder(folder, temp);
    throw error;
  }
  return temp;
}

/** Renames the staged `temp` over `name` in `folder`; a rename that fails removes it. */
export async function putInFolder(folder: string, temp: string, name: string): Promise<void> {
  try {
    await rename(join(folder, temp), join(folder, name));
  } catch (error) {
    await discardInFolder(folder, temp);
    throw error;
  }
}

/** Removes a staged temp file that will not be put in place. */
export async function discardInFolder(folder: string, temp: string): Promise<void> {
  await unlink(join(folder, temp)).catch(() => {
    // Never created, or renamed already: nothing to clean.
  });
}

/** The bytes of a regular file, or undefined when there is none (missing, a link, a folder, a FIFO). */
export async function readRegularFile(path: string): Promise<Uint8Array | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, READ_FLAGS);
    if (!(await handle.stat()).isFile()) return undefined;
    return await handle.readFile();
  } catch {
    // Missing, a link (ELOOP), unreadable: there is no regular file to speak of.
    return undefined;
  } finally {
    await handle?.close();
  }
}

async function holds(path: string, bytes: Uint8Array, settings: FileSettings): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, READ_FLAGS);
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size !== bytes.length || (stat.mode & 0o7777) !== settings.mode) return false;
    if (settings.owner && (stat.uid !== settings.owner.uid || stat.gid !== settings.owner.gid)) return false;
    const current = await handle.readFile();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(current);
  } catch {
    // Missing or not a regular file: it does not hold the bytes, and is replaced.
    return false;
  } finally {
    await handle?.close();
  }
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
