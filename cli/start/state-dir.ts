import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CairnError } from '../../core/index.js';

/** What `cairn start` keeps in its state directory, each entry made by it alone. */
export const STATE_ENTRIES = {
  /** The git repository imported from a plain directory (example-config-repo/ by default). */
  repo: 'repo',
  /** ZooKeeper's configuration, log and data. */
  zookeeper: 'zookeeper',
  /** The syncer's git cache. */
  syncerCache: 'syncer-cache',
  /** One folder per played host: the prefix its agent writes the services' files under. */
  agents: 'agents',
  /** The example SDK service's local cache of its configuration. */
  sdkCache: 'sdk-cache',
  /** Keeps the entries above out of a git repository the state directory sits in. */
  gitignore: '.gitignore',
} as const;

export type StateEntry = (typeof STATE_ENTRIES)[keyof typeof STATE_ENTRIES];

/** The manifest, beside the entries: what was created, from what, and who uses the directory now. */
const MANIFEST = 'cairn-start.json';

interface StateManifest {
  /** Entries cairn start created here: the only ones --fresh deletes. */
  created: StateEntry[];
  /** The directory `repo` was imported from. */
  importedFrom?: string;
  /** ZooKeeper's client port last time, so an exported CAIRN_ZK keeps working after a restart. */
  zookeeperPort?: number;
  /** The cairn start that uses the directory now. */
  pid?: number;
}

export class StateDirError extends CairnError {}

/**
 * The state directory of `cairn start` (`.cairn/` by default): what it creates lives there and
 * outlives it, so a restart continues with the same repository, commits and ZooKeeper data. One
 * `cairn start` at a time uses it.
 */
export class StateDir {
  readonly path: string;
  #manifest: StateManifest;

  private constructor(path: string, manifest: StateManifest) {
    this.path = path;
    this.#manifest = manifest;
  }

  /**
   * Opens (creating it if needed) and claims the directory for this process. Throws
   * STATE_DIR_IN_USE while another `cairn start` runs on it.
   */
  static async claim(
    path: string,
    isRunning: (pid: number) => Promise<boolean> = isCairnStart,
  ): Promise<StateDir> {
    await mkdir(path, { recursive: true });
    const manifest = await readManifest(path);
    if (manifest.pid !== undefined && manifest.pid !== process.pid && (await isRunning(manifest.pid))) {
      throw new StateDirError(
        'STATE_DIR_IN_USE',
        `another cairn start (pid ${manifest.pid}) is running with its state in ${path}: stop it first, or pass --state-dir <another folder>`,
      );
    }
    const state = new StateDir(path, { ...manifest, pid: process.pid });
    await state.#save();
    return state;
  }

  /** The absolute path of an entry. */
  entry(name: StateEntry): string {
    return join(this.path, name);
  }

  /** Whether an entry was made by cairn start and is still there. */
  has(name: StateEntry): boolean {
    return this.#manifest.created.includes(name) && existsSync(this.entry(name));
  }

  get importedFrom(): string | undefined {
    return this.#manifest.importedFrom;
  }

  get zookeeperPort(): number | undefined {
    return this.#manifest.zookeeperPort;
  }

  /** What --fresh would delete: the entries made here that still exist. */
  createdEntries(): StateEntry[] {
    return this.#manifest.created.filter((name) => existsSync(this.entry(name)));
  }

  /** Records that cairn start made `name` (and what goes with it), so --fresh may delete it later. */
  async created(
    name: StateEntry,
    details: Pick<StateManifest, 'importedFrom' | 'zookeeperPort'> = {},
  ): Promise<void> {
    if (!this.#manifest.created.includes(name)) this.#manifest.created.push(name);
    this.#manifest = { ...this.#manifest, ...details };
    await this.#save();
  }

  /**
   * Writes a .gitignore that keeps cairn start's entries out of a repository the directory is part
   * of (a config repository that commits `.cairn/schemas/`, say), unless there is one already.
   */
  async ignoreInGit(): Promise<void> {
    const path = this.entry(STATE_ENTRIES.gitignore);
    if (existsSync(path)) return;
    const ignored = [
      MANIFEST,
      STATE_ENTRIES.repo,
      STATE_ENTRIES.zookeeper,
      STATE_ENTRIES.syncerCache,
      STATE_ENTRIES.agents,
      STATE_ENTRIES.sdkCache,
    ];
    await writeFile(
      path,
      `# cairn start's local state, not configuration\n${ignored.map((e) => `/${e}`).join('\n')}\n`,
    );
    await this.created(STATE_ENTRIES.gitignore);
  }

  /** Deletes every entry cairn start made here, and nothing else; the directory stays. */
  async removeCreated(): Promise<void> {
    for (const name of this.#manifest.created) {
      await rm(this.entry(name), { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
    }
    this.#manifest = { created: [], pid: process.pid };
    await this.#save();
  }

  /** Gives the directory up: the next cairn start may use it. */
  async release(): Promise<void> {
    const { pid: _, ...rest } = this.#manifest;
    this.#manifest = rest;
    await this.#save();
  }

  async #save(): Promise<void> {
    // Written whole and renamed, so a crash never leaves half a manifest.
    const temp = join(this.path, `.${MANIFEST}.${process.pid}`);
    await writeFile(temp, `${JSON.stringify(this.#manifest, null, 2)}\n`);
    await rename(temp, join(this.path, MANIFEST));
  }
}

async function readManifest(dir: string): Promise<StateManifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { created: [] };
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<StateManifest>;
    return { ...parsed, created: Array.isArray(parsed.created) ? parsed.created : [] };
  } catch (error) {
    throw new StateDirError(
      'STATE_DIR_UNREADABLE',
      `${join(dir, MANIFEST)} is not valid JSON (${(error as Error).message}): delete it, or pass --state-dir <another folder>`,
    );
  }
}

/**
 * Whether `pid` is a running `cairn start`. A pid is reused after a reboot, so on Linux its command
 * line must say so too; where it cannot be read, a live process counts.
 */
async function isCairnStart(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let argv: string[];
  try {
    argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
  } catch {
    return true;
  }
  return argv.includes('start') && argv.some((arg) => /cairn|main\.[jt]s$/.test(arg));
}
