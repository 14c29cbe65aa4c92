import type { Logger } from 'pino';
import {
  type AgentServiceState,
  type AgentServiceStatus,
  CairnError,
  CoalescingTrigger,
  type CommandRun,
  contentId,
  type Drift,
  type EnvironmentRead,
  type EnvironmentSnapshot,
  EnvironmentWatch,
  mapWithConcurrency,
  type Rejection,
  type SessionKeeper,
  type ZkLayout,
} from '../core/index.js';
import { sameSettings } from './assignments.js';
import type { FileSettings } from './atomic-file.js';
import type { AppliedState, LocalStore, ServiceSettings, SwapJournal } from './local-store.js';
import { commandUser, type HostUser, lookupOwner } from './owner.js';
import { type CommandRunner, succeeded } from './run-command.js';
import { ServiceDirectory } from './service-directory.js';

export interface ServiceAgentOptions {
  readonly keeper: SessionKeeper;
  readonly layout: ZkLayout;
  readonly service: string;
  readonly env: string;
  /** This host's name: while the environment's configuration rides a rollout, its assignment is followed. */
  readonly host: string;
  readonly settings: ServiceSettings;
  readonly store: LocalStore;
  /** Deadline of each check and reload. */
  readonly commandTimeoutMs: number;
  /** Runs the check and the reload. */
  readonly runCommand: CommandRunner;
  /** How often managed files are compared with what was written; whether drift is repaired or only reported. */
  readonly drift: { readonly intervalMs: number; readonly repair: boolean };
  /** Whether files get the owner service.yaml names (off for agents side by side under a prefix). */
  readonly applyOwner: boolean;
  readonly logger: Logger;
  /** Called whenever what `status()` says changes. */
  readonly onStatus: () => void;
}

/** Drift entries kept in the status, newest first. */
const MAX_DRIFT_REPORTED = 50;
/** Files written at once in a swap: enough to overlap their fsyncs, few enough to spare descriptors. */
const PARALLEL_WRITES = 8;
/**
 * A swap reports its status once, when it ends (each report is a write of `/agents/<host>`, and a
 * commit reaches every host at once); one still under way after this long (a slow check) is
 * reported as applying meanwhile.
 */
const APPLYING_REPORTED_AFTER_MS = 5_000;

/**
 * Keeps one service's directory on this host equal to its environment's snapshot (consul-template's
 * runner, with what it lacks): each new snapshot is swapped in file by file, atomically, under a
 * journal; then the service's check runs, then its reload — once per snapshot, however many files
 * changed, and a burst of snapshots is one swap. When the check or the reload fails, the previous
 * files go back (and are reloaded) and the snapshot is reported rejected on this host. Managed files
 * that drift are reported and, by default, repaired. Nothing here ends the agent: failures are
 * reported and retried with backoff, and without a snapshot nothing on disk changes.
 */
export class ServiceAgent {
  private readonly options: ServiceAgentOptions;
  private readonly watch: EnvironmentWatch;
  private readonly trigger: CoalescingTrigger;
  private settings: ServiceSettings;
  private applied: AppliedState | undefined;
  /** The mzxid of the host assignment the files on disk answer (AgentServiceStatus.assignment). */
  private appliedAssignment: bigint | undefined;
  private target: EnvironmentSnapshot | undefined;
  private currentState: AgentServiceState = 'waiting';
  /** The snapshot refused, with the settings and the assignment write (assignmentOf) it was refused under. */
  private rejection:
    | (Rejection & { readonly settings: ServiceSettings; readonly assignment: bigint | undefined })
    | undefined;
  private lastRun: CommandRun | undefined;
  private error: AgentServiceStatus['error'];
  private readonly drift = new Map<string, Drift>();
  private driftTimer: NodeJS.Timeout | undefined;
  private driftDue = true;
  private stopped = false;
  /** While a swap runs, what changes is reported once, at its end (see holdReports). */
  private reportsHeld = false;

  constructor(options: ServiceAgentOptions) {
    this.options = options;
    this.settings = options.settings;
    const { keeper, layout, service, env, host } = options;
    this.watch = new EnvironmentWatch({ keeper, layout, service, env, host });
    this.watch.on('read', (read) => this.onRead(read));
    this.watch.on('error', (error, failures) => {
      if (failures === 1)
        options.logger.warn(
          { service, env, err: error },
          'cannot read the environment; files stay as they are',
        );
    });
    this.trigger = new CoalescingTrigger(() => this.reconcile(), {
      onError: (error, failures, retryInMs) => {
        this.fail(error);
        if (failures === 1 || failures % 10 === 0)
          options.logger.warn(
            { service, env, code: codeOf(error), failures, retryInMs },
            `cannot apply: ${(error as Error).message}; retrying`,
          );
      },
    });
  }

  get key(): string {
    return `${this.options.service}/${this.options.env}`;
  }

  /** Puts back what a swap interrupted by a crash left half done, then starts following the environment. */
  async start(): Promise<void> {
    const { store, service, env } = this.options;
    this.applied = await store.applied(service, env);
    await this.removeStaleTempFiles(await store.journal(service, env));
    await this.recover();
    if (this.applied) this.currentState = 'applied';
    this.options.onStatus();
    this.watch.start();
    this.driftTimer = setInterval(() => {
      this.driftDue = true;
      this.trigger.request();
    }, this.options.drift.intervalMs);
    this.driftTimer.unref();
    this.trigger.request();
  }

  /** The service tree changed how this service's files are kept: the next pass rewrites them so. */
  updateSettings(settings: ServiceSettings): void {
    if (sameSettings(settings, this.settings)) return;
    this.settings = settings;
    this.trigger.request();
  }

  /** Resolves when no pass is running or pending. */
  async idle(): Promise<void> {
    await this.trigger.idle();
  }

  /**
   * Stops keeping the files: the host no longer runs the service. With `prune`, the files the agent
   * wrote are deleted; otherwise they stay, reported as unmanaged.
   */
  async stop(options: { readonly prune: boolean; readonly unmanaged: boolean }): Promise<void> {
    this.stopped = true;
    clearInterval(this.driftTimer);
    await this.watch.close();
    await this.trigger.close();
    if (options.prune && this.applied) {
      const files = Object.keys(this.applied.files);
      await withDirectory(this.applied.directory, 'existing', async (directory) => {
        for (const file of files) await directory.remove(file);
      });
      await this.options.store.forgetApplied(this.options.service, this.options.env);
      this.applied = undefined;
    }
    if (options.unmanaged) this.setState('unmanaged');
  }

  status(): AgentServiceStatus {
    const applied = this.applied;
    return {
      service: this.options.service,
      env: this.options.env,
      directory: applied?.directory ?? this.settings.directory,
      state: this.currentState,
      ...(applied
        ? { commit: applied.commit, manifest: applied.manifest, appliedAt: applied.appliedAt }
        : {}),
      ...(applied && this.appliedAssignment !== undefined
        ? { assignment: this.appliedAssignment.toString() }
        : {}),
      files: applied?.files ?? {},
      ...(this.lastRun ? { lastRun: this.lastRun } : {}),
      ...(this.rejection
        ? {
            rejected: {
              commit: this.rejection.commit,
              manifest: this.rejection.manifest,
              run: this.rejection.run,
            },
          }
        : {}),
      drift: [...this.drift.values()].slice(-MAX_DRIFT_REPORTED),
      ...(this.error ? { error: this.error } : {}),
    };
  }

  private onRead(read: EnvironmentRead): void {
    if (read.kind === 'absent') {
      // Nothing published for this environment (a tag-following one before its first tag): files stay.
      this.target = undefined;
      if (!this.applied) this.setState('waiting');
      return;
    }
    this.target = read.snapshot;
    this.trigger.request();
  }

  /** One pass: apply the newest snapshot if it differs from what is on disk, else look for drift. */
  private async reconcile(): Promise<void> {
    if (this.stopped) return;
    const target = this.target;
    const current =
      this.applied !== undefined &&
      sameSettings(this.applied.settings, this.settings) &&
      (target === undefined || this.applied.manifest === target.pointer.manifest);
    if (current || target === undefined) {
      if (target) this.answerAssignment(target);
      if (this.driftDue) await this.checkDrift();
      return;
    }
    if (
      this.rejection?.manifest === target.pointer.manifest &&
      this.rejection.assignment === assignmentOf(target) &&
      sameSettings(this.rejection.settings, this.settings)
    )
      // Refused already: wait for the next snapshot, a change of settings, or a new write of the
      // assignment (a drain's restore refused, by a reload that timed out say, comes again with the
      // next deployment instead of holding the host drained until the files change).
      return;
    await this.swap(target);
  }

  /**
   * The files on disk are the target's already: they answer its assignment too, when that was
   * written again naming the same files (a drain of the same hosts again), which a swap would not note.
   */
  private answerAssignment(target: EnvironmentSnapshot): void {
    const assignment = assignmentOf(target);
    if (assignment === this.appliedAssignment) return;
    this.appliedAssignment = assignment;
    this.report();
  }

  private async swap(target: EnvironmentSnapshot): Promise<void> {
    const { service, env, logger } = this.options;
    const settings = this.settings;
    const { revision } = target.pointer;
    const log = logger.child({ service, env, commit: revision.commit });
    const release = this.holdReports();
    try {
      // Looked up once for the files and the commands alike: each lookup forks `getent`.
      const owner = await this.ownerOf(settings);
      const directory = await ServiceDirectory.open(settings.directory);
      try {
        await this.swapIn(target, directory, owner, log);
      } finally {
        await directory.close();
      }
    } catch (error) {
      release({ report: false }); // the failure is reported (fail) with all the swap changed
      throw error;
    }
    release({ report: true });
  }

  /**
   * Holds the reports of a swap until it ends, so that a commit costs one write of the agent's
   * record rather than one per step; a swap that outlasts APPLYING_REPORTED_AFTER_MS is reported
   * then, and reports as before from there on. The returned function ends the hold.
   */
  private holdReports(): (end: { readonly report: boolean }) => void {
    this.reportsHeld = true;
    const timer = setTimeout(() => {
      this.reportsHeld = false;
      this.options.onStatus();
    }, APPLYING_REPORTED_AFTER_MS);
    timer.unref();
    return ({ report }) => {
      clearTimeout(timer);
      this.reportsHeld = false;
      if (report) this.options.onStatus();
    };
  }

  /** Tells the daemon the status changed, unless a swap holds the reports until its end. */
  private report(): void {
    if (!this.reportsHeld) this.options.onStatus();
  }

  private async swapIn(
    target: EnvironmentSnapshot,
    directory: ServiceDirectory,
    owner: HostUser | undefined,
    log: Logger,
  ): Promise<void> {
    const { store, service, env } = this.options;
    const settings = this.settings;
    const fileSettings = fileSettingsOf(settings, owner);
    const { revision } = target.pointer;
    const root = directory.root;
    const from = this.applied && this.applied.directory === settings.directory ? this.applied.files : {};
    const to = Object.fromEntries(target.contentIds);
    this.setState('applying');
    // The files are written beside their targets while the journal is made durable; none is put in
    // place before it is.
    const prepared = store.beginSwap(service, env, { directory: root, from, to });
    prepared.catch(() => undefined); // awaited by the writes, and below
    try {
      await this.writeFiles(directory, from, target.files, fileSettings, prepared);
      await this.copyContent(target);
    } catch (error) {
      // A swap whose journal could not be written changed nothing of the service's.
      const begun = await prepared.then(
        () => true,
        () => false,
      );
      if (begun) {
        await this.putBack(directory, from, to, fileSettings);
        await store.endSwap(service, env);
      }
      throw error;
    }
    const runEnv = { CAIRN_SERVICE: service, CAIRN_ENV: env, CAIRN_COMMIT: revision.commit };
    // The renames are made durable while the commands run (a service reads the names, which the
    // renames changed already): before the applied state says so, and before the journal goes.
    const durable = directory.sync();
    try {
      for (const step of ['check', 'reload'] as const) {
        const command = settings[step];
        if (!command) continue;
        const run = await this.run(step, command, runEnv, root, settings, owner);
        if (succeeded(run)) continue;
        await durable;
        await this.putBack(directory, from, to, fileSettings);
        // The service may have half taken the new files: have it take the previous ones again.
        if (step === 'reload' && settings.reload)
          await this.run(
            'reload',
            settings.reload,
            { ...runEnv, CAIRN_COMMIT: this.applied?.commit ?? '' },
            root,
            settings,
            owner,
          );
        await store.endSwap(service, env);
        this.rejection = {
          commit: revision.commit,
          manifest: target.pointer.manifest,
          run,
          settings,
          assignment: assignmentOf(target),
        };
        this.error = undefined;
        this.setState('rejected');
        log.warn(
          {
            step,
            exitCode: run.exitCode,
            signal: run.signal,
            timedOut: run.timedOut,
            output: run.outputTail.slice(-500),
          },
          `${step} failed: the previous files are back in place and the commit is rejected on this host`,
        );
        return;
      }
    } finally {
      await durable;
    }
    const applied: AppliedState = {
      service,
      env,
      directory: settings.directory,
      commit: revision.commit,
      manifest: target.pointer.manifest,
      files: to,
      appliedAt: new Date().toISOString(),
      settings,
    };
    await store.saveApplied(applied);
    await store.endSwap(service, env);
    this.applied = applied;
    this.appliedAssignment = assignmentOf(target);
    this.rejection = undefined;
    this.error = undefined;
    this.drift.clear();
    this.driftDue = false;
    this.setState('applied');
    log.info({ files: target.files.size }, 'files applied');
  }

  /**
   * Makes the agent's copies of the new content durable (so that repairing the files never needs
   * ZooKeeper), several at a time: before any command runs on the new files and before the applied
   * state names them, but after the files are in place. Only the journal has to come before the
   * files (a crash puts `from` back, from copies an earlier swap made durable); the files then wait
   * for the journal's fsyncs alone, not for the copies' too on the same four fs threads, which all
   * the services of the host (and, in the bench, 100 agents) share.
   */
  private async copyContent(target: EnvironmentSnapshot): Promise<void> {
    const copies = new Map<string, Uint8Array>();
    for (const [file, id] of target.contentIds) copies.set(id, target.files.get(file) as Uint8Array);
    await mapWithConcurrency([...copies.values()], PARALLEL_WRITES, (bytes) =>
      this.options.store.putContent(bytes),
    );
  }

  /**
   * Writes the target's files, each atomically, several at a time (their fsyncs overlap): each is
   * staged beside its target (written and fsynced) while the swap is `prepared`, and put in place
   * once it is, after the files the target no longer has are removed. Settles only when every
   * write has ended; a staged file that is not put in place is removed.
   */
  private async writeFiles(
    directory: ServiceDirectory,
    from: Readonly<Record<string, string>>,
    files: ReadonlyMap<string, Uint8Array>,
    settings: FileSettings,
    prepared: Promise<void>,
  ): Promise<void> {
    let removed: Promise<void> | undefined;
    const removeGone = () => {
      removed ??= prepared.then(async () => {
        for (const file of Object.keys(from)) if (!files.has(file)) await directory.remove(file);
      });
      return removed;
    };
    await mapWithConcurrency([...files], PARALLEL_WRITES, async ([file, bytes]) => {
      const staged = await directory.stage(file, bytes, settings);
      try {
        await removeGone();
      } catch (error) {
        await staged.discard();
        throw error;
      }
      await staged.put();
    });
    await removeGone();
  }

  /** Puts `from` back in place of `to`: what a failed check or reload, or an interrupted swap, leaves. */
  private async putBack(
    directory: ServiceDirectory,
    from: Readonly<Record<string, string>>,
    to: Readonly<Record<string, string>>,
    settings: FileSettings,
  ): Promise<void> {
    const { logger, service, env } = this.options;
    // Each file is put back on its own: one refused (a link planted since) keeps none of the others from going back.
    const refused = (file: string) => (error: unknown) =>
      logger.warn(
        { service, env, file, code: codeOf(error) },
        `cannot put ${file} back: ${(error as Error).message}`,
      );
    for (const file of Object.keys(to)) {
      if (from[file] === undefined) await directory.remove(file).catch(refused(file));
    }
    for (const [file, id] of Object.entries(from)) {
      const bytes = await this.options.store.content(id);
      if (bytes) await directory.write(file, bytes, settings).catch(refused(file));
    }
    // Durable before the journal that would put them back goes.
    await directory.sync();
  }

  /**
   * Removes the temp files a killed agent left beside the files this service's applied state and
   * interrupted swap name, before this process writes any there. A failure only leaves them.
   */
  private async removeStaleTempFiles(journal: SwapJournal | undefined): Promise<void> {
    const { service, env, logger } = this.options;
    const places = new Map<string, Set<string>>();
    for (const [directory, files] of [
      [this.applied?.directory, this.applied?.files],
      [journal?.directory, journal?.from],
      [journal?.directory, journal?.to],
    ] as const) {
      if (directory === undefined || files === undefined) continue;
      const known = places.get(directory) ?? new Set<string>();
      for (const file of Object.keys(files)) known.add(file);
      places.set(directory, known);
    }
    for (const [path, files] of places) {
      try {
        const removed = await withDirectory(path, 'existing', (directory) =>
          directory.removeStaleTempFiles(files),
        );
        if (removed?.length)
          logger.info(
            { service, env, directory: path, files: removed },
            'removed temp files a stopped agent left',
          );
      } catch (error) {
        logger.warn(
          { service, env, directory: path, code: codeOf(error) },
          `cannot look for temp files a stopped agent left: ${(error as Error).message}`,
        );
      }
    }
  }

  /** A journal left by a crash: the files go back to what the last applied state says. */
  private async recover(): Promise<void> {
    const { store, service, env, logger } = this.options;
    const journal = await store.journal(service, env);
    if (!journal) return;
    const finished = this.applied !== undefined && sameFiles(this.applied.files, journal.to);
    if (!finished) {
      const settings = this.applied?.settings ?? this.settings;
      const fileSettings = await this.ownerOf(settings).then(
        (owner) => fileSettingsOf(settings, owner),
        () => ({ mode: settings.mode }),
      );
      await withDirectory(journal.directory, 'existing', (directory) =>
        this.putBack(directory, journal.from, journal.to, fileSettings),
      );
      logger.warn({ service, env }, 'a swap was interrupted: the previous files are back in place');
    }
    await store.endSwap(service, env);
  }

  /** Compares every managed file with what was written; reports the difference and, by default, repairs it. */
  private async checkDrift(): Promise<void> {
    this.driftDue = false;
    const applied = this.applied;
    if (!applied) return;
    const found: string[] = [];
    await withDirectory(applied.directory, 'existing', async (directory) => {
      for (const [file, id] of Object.entries(applied.files)) {
        const bytes = await directory.read(file);
        if (!bytes || contentId(bytes) !== id) found.push(file);
      }
      return true;
    }).then((opened) => {
      if (!opened) found.push(...Object.keys(applied.files)); // the whole directory is gone
    });
    if (found.length === 0) return;
    const now = new Date().toISOString();
    const { repair } = this.options.drift;
    for (const file of found) {
      const since = this.drift.get(file)?.since ?? now;
      this.drift.delete(file);
      this.drift.set(file, { file, since, repaired: repair });
    }
    this.options.logger.warn(
      { service: this.options.service, env: this.options.env, files: found, repair },
      'managed files drifted',
    );
    if (repair) {
      const owner = await this.ownerOf(applied.settings);
      const settings = fileSettingsOf(applied.settings, owner);
      const root = await withDirectory(applied.directory, 'create', async (directory) => {
        for (const file of found) {
          const bytes = await this.options.store.content(applied.files[file] as string);
          if (bytes) await directory.write(file, bytes, settings);
        }
        return directory.root;
      });
      if (applied.settings.reload && root)
        await this.run(
          'reload',
          applied.settings.reload,
          { CAIRN_SERVICE: applied.service, CAIRN_ENV: applied.env, CAIRN_COMMIT: applied.commit },
          root,
          applied.settings,
          owner,
        );
    }
    this.options.onStatus();
  }

  private async run(
    step: CommandRun['step'],
    command: string,
    env: Record<string, string>,
    cwd: string,
    settings: ServiceSettings,
    owner: HostUser | undefined,
  ): Promise<CommandRun> {
    const { service, env: environment, logger, applyOwner, commandTimeoutMs } = this.options;
    const name = commandUser(settings.owner, { applyOwner, uid: process.getuid?.() });
    // The owner this pass looked up, when it is that user; else runCommand looks the name up.
    const user = name === undefined ? undefined : owner?.name === name ? owner : name;
    logger.debug(
      { service, env: environment, commit: env.CAIRN_COMMIT, step, command, user: name },
      `running ${step}`,
    );
    const run = await this.options.runCommand({
      step,
      command,
      env,
      timeoutMs: commandTimeoutMs,
      cwd,
      ...(user !== undefined ? { user } : {}),
    });
    this.lastRun = run;
    this.report();
    return run;
  }

  /** The user files.owner names, when the agent gives files their owner; OwnerNotFoundError when the host lacks it. */
  private async ownerOf(settings: ServiceSettings): Promise<HostUser | undefined> {
    if (!this.options.applyOwner || settings.owner === undefined) return undefined;
    return lookupOwner(settings.owner);
  }

  private fail(error: unknown): void {
    this.error = {
      code: codeOf(error),
      message: (error as Error)?.message ?? String(error),
      at: new Date().toISOString(),
    };
    this.setState('failed');
  }

  private setState(state: AgentServiceState): void {
    this.currentState = state;
    this.report();
  }
}

/**
 * Runs `use` on the service's directory, held open, and closes it. With 'existing', a directory
 * that is not there is not made: `use` does not run and the result is undefined.
 */
async function withDirectory<T>(
  path: string,
  open: 'create' | 'existing',
  use: (directory: ServiceDirectory) => Promise<T>,
): Promise<T | undefined> {
  const directory =
    open === 'create' ? await ServiceDirectory.open(path) : await ServiceDirectory.openExisting(path);
  if (!directory) return undefined;
  try {
    return await use(directory);
  } finally {
    await directory.close();
  }
}

function fileSettingsOf(settings: ServiceSettings, owner: HostUser | undefined): FileSettings {
  return owner ? { mode: settings.mode, owner } : { mode: settings.mode };
}

function codeOf(error: unknown): string {
  if (error instanceof CairnError) return error.code;
  const code = (error as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' ? code : 'UNEXPECTED';
}

function sameFiles(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** Which write of the host's assignment a snapshot serves, when it serves one. */
function assignmentOf(target: EnvironmentSnapshot): bigint | undefined {
  return target.served === 'assignment' ? target.assignmentStat?.mzxid : undefined;
}
