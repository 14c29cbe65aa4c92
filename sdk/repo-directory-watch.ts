import { EventEmitter } from 'node:events';
import { type FSWatcher, watch } from 'node:fs';
import { resolve } from 'node:path';
import { CairnError, CoalescingTrigger, contentId, type Diagnostic, type Revision } from '../core/index.js';
import { validateRepoDir } from '../schemas/index.js';

/** What a snapshot source (ZooKeeper's environment pointer, or a directory) read. */
export type SnapshotRead =
  | {
      readonly kind: 'snapshot';
      readonly revision: Revision;
      readonly files: ReadonlyMap<string, Uint8Array>;
      /** Path → content id, when the source already knows them (ZooKeeper's manifest). */
      readonly contentIds?: ReadonlyMap<string, string>;
      /** The manifest's content id, when the source names one (ZooKeeper's pointer). */
      readonly manifest?: string;
    }
  /** No files for the environment; `mirrored`: whether the source holds anything at all. */
  | { readonly kind: 'absent'; readonly mirrored: boolean; readonly revision?: Revision };

/** The config repository directory fails the checks the syncer makes before it mirrors a commit. */
export class ConfigRepoInvalidError extends CairnError {
  readonly dir: string;
  readonly diagnostics: readonly Diagnostic[];

  constructor(dir: string, diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const shown = errors
      .slice(0, 5)
      .map((d) => `${d.file}:${d.line}:${d.column} ${d.message} (${d.rule})`)
      .join('; ');
    super(
      'CONFIG_REPO_INVALID',
      `${dir} is not a valid config repository, ${errors.length} error(s): ${shown}${errors.length > 5 ? '; …' : ''}. ` +
        'Fix them (npx cairn validate shows them all): the syncer would refuse this commit too',
    );
    this.dir = dir;
    this.diagnostics = diagnostics;
  }
}

/** How long a burst of file events is given to settle before the directory is read again. */
const SETTLE_MS = 50;

/**
 * One service's files in one environment, read from a config repository directory with the model
 * and overlays the syncer uses (schemas' validateRepoDir over core's loadConfigRepo), and read again
 * when files change there (fs.watch, recursive; a burst of events costs one read). A directory that
 * fails validation is reported as an error and the last good read stays.
 */
export class RepoDirectoryWatch extends EventEmitter<{ read: [SnapshotRead]; error: [unknown, number] }> {
  readonly dir: string;
  private readonly service: string;
  private readonly env: string;
  private readonly trigger: CoalescingTrigger;
  private watcher: FSWatcher | undefined;
  private settle: NodeJS.Timeout | undefined;
  private lastId: string | undefined;

  constructor(options: { readonly dir: string; readonly service: string; readonly env: string }) {
    super();
    this.dir = resolve(options.dir);
    this.service = options.service;
    this.env = options.env;
    this.trigger = new CoalescingTrigger(() => this.readOnce(), {
      retry: { initialMs: 200, maxMs: 5_000 },
      onError: (error, failures) => this.emit('error', error, failures),
    });
  }

  start(): void {
    try {
      this.watcher = watch(this.dir, { recursive: true }, (_event, file) => {
        // A commit in a work tree writes under .git: what the client serves is in the files.
        if (typeof file === 'string' && /^(\.git|node_modules)([/\\]|$)/.test(file)) return;
        clearTimeout(this.settle);
        this.settle = setTimeout(() => this.trigger.request(), SETTLE_MS);
      });
      this.watcher.on('error', (error) => this.emit('error', error, 1));
    } catch (error) {
      this.watcher = undefined;
      // No such directory: the first read reports it, as REPO_NOT_FOUND.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.emit('error', error, 1);
    }
    this.trigger.request();
  }

  async close(): Promise<void> {
    clearTimeout(this.settle);
    this.watcher?.close();
    await this.trigger.close();
  }

  private async readOnce(): Promise<void> {
    const { repo, diagnostics } = await validateRepoDir(this.dir);
    if (diagnostics.some((d) => d.severity === 'error'))
      throw new ConfigRepoInvalidError(this.dir, diagnostics);
    const effective = repo.services.get(this.service)?.files.get(this.env);
    const files = new Map([...(effective ?? [])].map(([path, file]) => [path, file.bytes]));
    // A directory has no commit: the files' own digest stands for one, so an unchanged read is no change.
    const manifest = [...files].map(([path, bytes]) => `${path}\0${contentId(bytes)}\n`).join('');
    const id = contentId(new TextEncoder().encode(effective ? manifest : 'absent'));
    if (id === this.lastId) return;
    this.lastId = id;
    const revision: Revision = {
      commit: id,
      author: { name: 'local', email: '' },
      message: `the files of ${this.dir}`,
      time: new Date().toISOString(),
    };
    // The service or environment went from the directory: like a commit that removed it.
    if (!effective) this.emit('read', { kind: 'absent', mirrored: true, revision });
    else this.emit('read', { kind: 'snapshot', revision, files });
  }
}
