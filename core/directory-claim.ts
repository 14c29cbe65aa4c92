import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CairnError } from './errors.js';
import { isRunning, processStart } from './process-liveness.js';
import { removeStaleTempFiles } from './stale-temp-files.js';

/** Who holds a directory, as its owner file says. */
export interface DirectoryHolder {
  readonly pid: number;
  readonly host: string;
  /** The process's start time in clock ticks since boot (Linux), which a reused pid does not share. */
  readonly processStart?: string;
  readonly role: string;
  /** When it claimed the directory (ISO 8601). */
  readonly since: string;
}

/** A directory that another live process holds. */
export class DirectoryInUseError extends CairnError {
  readonly holder: DirectoryHolder;

  constructor(dir: string, holder: DirectoryHolder, hint: string) {
    const who = `${holder.role} pid ${holder.pid} on ${holder.host}, since ${holder.since}`;
    const whose =
      holder.pid === process.pid && holder.host === hostname() ? 'this process' : 'another process';
    super('DIRECTORY_IN_USE', `${dir} is in use by ${whose} (${who}): ${hint}`);
    this.holder = holder;
  }
}

/** The owner file, in the claimed directory. */
export const OWNER_FILE = '.cairn-owner';

/**
 * How long a holder on another host is trusted without refreshing its claim. Its liveness cannot be
 * checked from here (a shared file system), so it touches the owner file every third of this.
 */
export const LEASE_MS = 60_000;

/** Directories this process holds, and as whom, so that a second claim within it is refused too. */
const heldHere = new Map<string, DirectoryHolder>();

/** A directory held by this process until `release()`. */
export class DirectoryClaim {
  readonly #path: string;
  readonly #dir: string;
  readonly #text: string;
  readonly #refresh: NodeJS.Timeout;

  /** `key` is the directory's resolved path, which the claim reserved in heldHere. */
  constructor(key: string, path: string, text: string) {
    this.#dir = key;
    this.#path = path;
    this.#text = text;
    // A holder on another host sees this claim as live while its file keeps being touched.
    this.#refresh = setInterval(() => {
      const now = new Date();
      utimes(this.#path, now, now).catch(() => undefined);
    }, LEASE_MS / 3);
    this.#refresh.unref();
  }

  /** The directory held. */
  get dir(): string {
    return this.#dir;
  }

  /** Gives the directory up: the owner file is removed if it is still this claim's. */
  async release(): Promise<void> {
    clearInterval(this.#refresh);
    heldHere.delete(this.#dir);
    const text = await readFile(this.#path, 'utf8').catch(() => undefined);
    if (text === this.#text) await unlink(this.#path).catch(() => undefined);
  }
}

/**
 * Claims `dir` (created if missing) for this process alone, as `role`: two syncers on one clone, or
 * two agents on one state directory, would each undo the other's work. The claim is an owner file
 * created atomically (written aside, then linked into place, which fails if one is there). One left
 * by a process that is gone is taken over: on this host, when its pid no longer runs or runs another
 * process (a reused pid); on another host, when it was not refreshed for LEASE_MS. Two processes
 * taking over the same stale file at once cannot both succeed: the takeover itself is claimed the
 * same way. Throws DirectoryInUseError, with `hint` (what to do), while another live process holds it.
 */
export async function claimDirectory(dir: string, role: string, hint: string): Promise<DirectoryClaim> {
  const key = resolve(dir);
  const me = await thisProcess(role);
  // Reserved before the first await, so that two claims within this process cannot both proceed.
  const heldAs = heldHere.get(key);
  if (heldAs) throw new DirectoryInUseError(dir, heldAs, hint);
  heldHere.set(key, me);
  try {
    await mkdir(dir, { recursive: true });
    const path = join(dir, OWNER_FILE);
    const text = `${JSON.stringify(me)}\n`;
    let holder: DirectoryHolder | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await createExclusive(path, text)) return await claimed(key, path, text);
      const found = await readFile(path, 'utf8').catch(() => undefined);
      if (found === undefined) continue; // released meanwhile: try again
      holder = parseHolder(found);
      if (holder && (await isLive(holder, path))) throw new DirectoryInUseError(dir, holder, hint);
      if (await takeOver(path, found, text)) return await claimed(key, path, text);
      // Another process is taking it over: its claim is in place in a moment.
      await delay(10 * (attempt + 1));
    }
    // Claims kept changing hands under this one: whoever holds it now is live.
    throw new DirectoryInUseError(dir, holder ?? me, hint);
  } catch (error) {
    heldHere.delete(key);
    throw error;
  }
}

/** The claim made, once what a killed claimant wrote aside is removed. */
async function claimed(key: string, path: string, text: string): Promise<DirectoryClaim> {
  await removeStaleTempFiles(key, (name) => {
    const match = ASIDE_NAME.exec(name);
    return match ? Number(match[1]) : undefined;
  });
  return new DirectoryClaim(key, path, text);
}

/** Where an owner file is written before it is linked or renamed into place. */
function asidePath(path: string): string {
  return `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}

/** asidePath's names, with the pid of the process that wrote one. */
const ASIDE_NAME = /^\.cairn-owner\.([1-9][0-9]{0,9})-[0-9a-f]{8}\.tmp$/;

/** Creates `path` holding `text` only if nothing is there; the file is never seen half-written. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const aside = asidePath(path);
  await writeFile(aside, text);
  try {
    await link(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

/**
 * Replaces the stale owner file `path`, which read `stale`, with `text`, under a takeover file of
 * its own: of two processes that found it stale, the one that does not get the takeover file goes
 * back and finds the other's claim. False when the owner file changed meanwhile.
 */
async function takeOver(path: string, stale: string, text: string): Promise<boolean> {
  const takeover = `${path}.takeover`;
  if (!(await createExclusive(takeover, text))) {
    // Another process is taking over, or died doing so (its takeover file is then stale too).
    const other = parseHolder((await readFile(takeover, 'utf8').catch(() => '')) ?? '');
    if (!other || !(await isLive(other, takeover))) await unlink(takeover).catch(() => undefined);
    return false;
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => undefined);
    if (now !== stale) return false;
    const aside = asidePath(path);
    await writeFile(aside, text);
    await rename(aside, path);
    return true;
  } finally {
    await unlink(takeover).catch(() => undefined);
  }
}

/** Whether the process an owner file names still holds it. */
async function isLive(holder: DirectoryHolder, path: string): Promise<boolean> {
  if (holder.host !== hostname()) {
    const touched = await stat(path).then(
      (s) => s.mtimeMs,
      () => 0,
    );
    return Date.now() - touched < LEASE_MS;
  }
  // This pid is this process, whose own claims are in heldHere: the file was left by an earlier
  // process with the same pid (a container's main process is often pid 1).
  if (holder.pid === process.pid) return false;
  if (!isRunning(holder.pid)) return false;
  const start = await processStart(holder.pid);
  return holder.processStart === undefined || start === undefined || start === holder.processStart;
}

async function thisProcess(role: string): Promise<DirectoryHolder> {
  const start = await processStart(process.pid);
  return {
    pid: process.pid,
    host: hostname(),
    ...(start === undefined ? {} : { processStart: start }),
    role,
    since: new Date().toISOString(),
  };
}

/** An owner file's holder, or undefined for anything else (then treated as stale). */
function parseHolder(text: string): DirectoryHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<DirectoryHolder>;
    const { pid, host, role, since, processStart: start } = value;
    if (!Number.isSafeInteger(pid) || (pid as number) <= 0) return undefined;
    if (typeof host !== 'string' || typeof role !== 'string' || typeof since !== 'string') return undefined;
    if (start !== undefined && typeof start !== 'string') return undefined;
    return { pid: pid as number, host, role, since, ...(start === undefined ? {} : { processStart: start }) };
  } catch {
    return undefined;
  }
}
