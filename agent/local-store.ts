import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTENT_ID, contentId, removeStaleTempFiles } from '../core/index.js';
import { agentTempFileOwner, readRegularFile, writeAtomically } from './atomic-file.js';

/** What the agent keeps of one service and environment on this host: the files it wrote, and how. */
export interface AppliedState {
  readonly service: string;
  readonly env: string;
  /** Where the files are written (the prefix applied). */
  readonly directory: string;
  readonly commit: string;
  readonly manifest: string;
  /** Path → content id of every file the agent wrote and keeps. */
  readonly files: Readonly<Record<string, string>>;
  readonly appliedAt: string;
  readonly settings: ServiceSettings;
}

/** How the files of a service are kept on a host, from its service tree node. */
export interface ServiceSettings {
  readonly directory: string;
  /** Permission bits, e.g. 0o644. */
  readonly mode: number;
  readonly owner?: string;
  readonly prune: boolean;
  readonly check?: string;
  readonly reload?: string;
}

/** A swap in progress: if the agent dies before it ends, the next start puts `from` back. */
export interface SwapJournal {
  readonly directory: string;
  readonly from: Readonly<Record<string, string>>;
  readonly to: Readonly<Record<string, string>>;
}

const PRIVATE = { mode: 0o600 } as const;

/**
 * The agent's own state on disk (`--state-dir`): content by id (what it wrote, to restore and repair
 * from without ZooKeeper), the applied state of each service, and swap journals. Every write is
 * atomic; a damaged file reads as absent rather than as something else.
 */
export class LocalStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async init(): Promise<void> {
    for (const folder of ['content', 'services', 'journal'])
      await mkdir(join(this.dir, folder), { recursive: true, mode: 0o700 });
  }

  /**
   * Removes the temp files of writes a killed agent left in the state directory (its own and any a
   * process with this pid left before: call it before this process writes any). Resolves with
   * their paths.
   */
  async removeStaleTempFiles(): Promise<string[]> {
    const contentShards = (await readdir(join(this.dir, 'content')).catch(() => [] as string[])).map(
      (shard) => join(this.dir, 'content', shard),
    );
    const folders = [this.dir, join(this.dir, 'services'), join(this.dir, 'journal'), ...contentShards];
    const removed: string[] = [];
    for (const folder of folders)
      for (const name of await removeStaleTempFiles(folder, agentTempFileOwner))
        removed.push(join(folder, name));
    return removed;
  }

  async putContent(bytes: Uint8Array): Promise<string> {
    const id = contentId(bytes);
    const folder = join(this.dir, 'content', id.slice(0, 2));
    await mkdir(folder, { recursive: true, mode: 0o700 });
    await writeAtomically(join(folder, id), bytes, PRIVATE);
    return id;
  }

  /** The bytes of content `id`, or undefined when missing or damaged (their id would differ). */
  async content(id: string): Promise<Uint8Array | undefined> {
    if (!CONTENT_ID.test(id)) return undefined;
    const bytes = await readRegularFile(join(this.dir, 'content', id.slice(0, 2), id));
    return bytes && contentId(bytes) === id ? bytes : undefined;
  }

  /** Deletes content no applied state or journal references. */
  async collect(keep: ReadonlySet<string>): Promise<void> {
    const root = join(this.dir, 'content');
    for (const shard of await readdir(root).catch(() => [] as string[])) {
      for (const id of await readdir(join(root, shard)).catch(() => [] as string[])) {
        if (!keep.has(id)) await rm(join(root, shard, id), { force: true });
      }
    }
  }

  async applied(service: string, env: string): Promise<AppliedState | undefined> {
    const value = await this.readJson(join(this.dir, 'services', fileName(service, env)));
    return isAppliedState(value) ? value : undefined;
  }

  async allApplied(): Promise<AppliedState[]> {
    const out: AppliedState[] = [];
    for (const name of await readdir(join(this.dir, 'services')).catch(() => [] as string[])) {
      const value = await this.readJson(join(this.dir, 'services', name));
      if (isAppliedState(value)) out.push(value);
    }
    return out;
  }

  async saveApplied(state: AppliedState): Promise<void> {
    await this.writeJson(join(this.dir, 'services', fileName(state.service, state.env)), state);
  }

  async forgetApplied(service: string, env: string): Promise<void> {
    await rm(join(this.dir, 'services', fileName(service, env)), { force: true });
  }

  async journal(service: string, env: string): Promise<SwapJournal | undefined> {
    const value = (await this.readJson(
      join(this.dir, 'journal', fileName(service, env)),
    )) as Partial<SwapJournal>;
    return value && typeof value.directory === 'string' && isFileMap(value.from) && isFileMap(value.to)
      ? (value as SwapJournal)
      : undefined;
  }

  async beginSwap(service: string, env: string, journal: SwapJournal): Promise<void> {
    await this.writeJson(join(this.dir, 'journal', fileName(service, env)), journal);
  }

  async endSwap(service: string, env: string): Promise<void> {
    await rm(join(this.dir, 'journal', fileName(service, env)), { force: true });
  }

  private async readJson(path: string): Promise<unknown> {
    try {
      return JSON.parse(await readFile(path, 'utf8'));
    } catch {
      // Missing or damaged: the agent acts as if it had no state for it, and writes it anew.
      return undefined;
    }
  }

  private async writeJson(path: string, value: unknown): Promise<void> {
    await writeAtomically(path, Buffer.from(JSON.stringify(value), 'utf8'), PRIVATE);
  }
}

function fileName(service: string, env: string): string {
  return `${service}@${env}.json`;
}

function isFileMap(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((id) => typeof id === 'string' && CONTENT_ID.test(id))
  );
}

function isAppliedState(value: unknown): value is AppliedState {
  const state = value as Partial<AppliedState> | undefined;
  return (
    !!state &&
    typeof state.service === 'string' &&
    typeof state.env === 'string' &&
    typeof state.directory === 'string' &&
    typeof state.commit === 'string' &&
    typeof state.manifest === 'string' &&
    isFileMap(state.files) &&
    typeof state.settings === 'object' &&
    state.settings !== null &&
    typeof state.settings.directory === 'string' &&
    typeof state.settings.mode === 'number'
  );
}
