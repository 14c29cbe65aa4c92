import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import {
  CairnError,
  type EnvironmentRead,
  EnvironmentWatch,
  EphemeralNode,
  EphemeralNodeConflictError,
  encodeInstanceRecord,
  type HeldSnapshot,
  type InstanceRecord,
  PARSE_RULES_VERSION,
  type Revision,
  SessionKeeper,
  type ZkSessionState,
} from '../core/index.js';
import { ActiveStandby, type ElectHandlers } from './active-standby.js';
import { checkContentsInBackground } from './background-content-check.js';
import { type ChangeInfo, changeInfoOf } from './change-info.js';
import { ChangeStream, type ConfigChange } from './change-stream.js';
import { ConfigSnapshot } from './config-snapshot.js';
import { compileValueRule, type ValueOptions, type ValueResolution } from './config-value.js';
import {
  type ConnectOptions,
  type ResolvedConnectOptions,
  type ResolvedDirectoryOptions,
  resolveClientOptions,
} from './connect-options.js';
import {
  ClientStateError,
  ConfigFileNotFoundError,
  ConfigRejectedError,
  EnvironmentNotFoundError,
  InvalidOptionsError,
  SdkWarning,
  type ValidationFailure,
  ValueInvalidError,
  ValueNotFoundError,
  ZooKeeperUnreachableError,
} from './errors.js';
import type { FileChange } from './file-delta.js';
import type { JsonSchema } from './file-validators.js';
import { RepoDirectoryWatch, type SnapshotRead } from './repo-directory-watch.js';
import type { SharedSession } from './shared-session.js';
import { SnapshotCache } from './snapshot-cache.js';
import type { StandardSchemaOutput, StandardSchemaV1 } from './standard-schema.js';

/** Where the configuration a client serves came from: `directory` in offline mode (`from`). */
export type ConfigSource = 'zookeeper' | 'cache' | 'directory';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'expired' | 'closed';

/** A commit the service's validation refused: none of its files were delivered. */
export interface RejectedChange extends ChangeInfo {
  readonly failures: readonly ValidationFailure[];
}

export type FileListener<T = unknown> = (value: T | undefined, change: ChangeInfo) => void;

/** Called with a value's new value when a commit changed it. */
export type ValueListener<T = unknown> = (value: T, change: ChangeInfo) => void;

export type ServiceConfigEvents = {
  /** Every file a commit changed for this service, together, after get() already returns the new values. */
  change: [ConfigChange];
  /** A commit was refused by validation; the service keeps its configuration. */
  rejected: [RejectedChange];
  /** The configuration now comes from this source (the cache at start, ZooKeeper once caught up). */
  source: [ConfigSource];
  connection: [ConnectionState];
  /** Something the client survives went wrong; `code` says what. */
  warning: [SdkWarning];
};

/**
 * How often a client compares its pointer's version with the server's even without a watch firing,
 * in case one was lost unnoticed. Watches are set again on every reconnection, so this is a guard,
 * not the way changes arrive: rare enough that 10,000 clients cost ZooKeeper ~30 requests a second.
 */
const RESYNC_INTERVAL_MS = 5 * 60_000;

/**
 * How long the cache write and the registration update wait after a commit is applied. The
 * callbacks come first: with many clients in one process (or a busy one), the disk writes and the
 * ZooKeeper write of each would otherwise delay the other clients' callbacks; and a burst of
 * commits costs one write of each. close() writes what is still waiting. Not exported from the
 * package: tests lengthen it to see the writes wait.
 */
export const recordTiming = { delayMs: 1000 };

/**
 * A service's live configuration in one environment. `connect()` creates and starts one; to hear
 * events raised while starting (a corrupt cache, a start from the cache), create it with `new`,
 * subscribe, then `await start()`.
 *
 * Guarantees: callbacks and get() only ever see the files of one commit; a commit is applied whole or
 * not at all (validation refuses the whole commit); bursts of commits may be coalesced, the newest is
 * always delivered; the configuration stays served through disconnections, session expiry and
 * ZooKeeper outages, and is cached on disk to start from while ZooKeeper is down.
 */
export class ServiceConfig extends EventEmitter<ServiceConfigEvents> {
  private readonly options: ResolvedConnectOptions | ResolvedDirectoryOptions;
  /** Undefined in offline mode (`from`): nothing of ZooKeeper is used. */
  private readonly keeper: SessionKeeper | undefined;
  /** Undoes what this client hooked onto a session it shares; undefined when it owns its session. */
  private readonly detach: (() => void) | undefined;
  private readonly watcher: EnvironmentWatch | RepoDirectoryWatch;
  /** Where a configuration that passes comes from: ZooKeeper, or the directory in offline mode. */
  private readonly liveSource: ConfigSource;
  private readonly cache: SnapshotCache | undefined;
  private readonly registration: EphemeralNode | undefined;
  private readonly fileListeners = new Map<string, Set<FileListener>>();
  private readonly streams = new Set<ChangeStream>();
  private readonly elections = new Set<ActiveStandby>();
  private readonly startedAt = new Date().toISOString();
  private phase: 'new' | 'starting' | 'running' | 'closed' = 'new';
  private snapshot: ConfigSnapshot | undefined;
  /** The cached snapshot read at start, until the first snapshot is chosen. */
  private seed: ConfigSnapshot | undefined;
  /** The cache's read at start, while it is read: what the pointer's first read compares with. */
  private seeding: Promise<ConfigSnapshot | undefined> | undefined;
  private currentSource: ConfigSource = 'zookeeper';
  private connectionState: ConnectionState = 'connecting';
  private appliedAt: string | undefined;
  private lastRejected: { readonly commit: string; readonly reason: string } | undefined;
  private firstRead: SnapshotRead | undefined;
  /** In offline mode, why the directory could not be read at start. */
  private firstError: unknown;
  private onFirstRead: (() => void) | undefined;
  private missingWarned = false;
  /** The cache write and registration update waiting after an apply (recordTiming.delayMs). */
  private recordTimer: NodeJS.Timeout | undefined;
  /** The cache read at start was of an older format: rewritten even when ZooKeeper confirms it. */
  private seedOutdated = false;
  /**
   * The check of a cache's files against their ids, after the start (see checkCachedContents): the
   * watch's next read waits for it, so bytes that fail are never lent to it.
   */
  private contentsChecked: Promise<unknown> | undefined;
  /** The snapshot whose damaged files are being read again from ZooKeeper. */
  private repairing: ConfigSnapshot | undefined;

  /**
   * `shared`: the session of a CairnClient, for `client.config()`; without it the client opens and
   * closes a session of its own.
   */
  constructor(options: ConnectOptions, shared?: SharedSession) {
    super();
    const resolved = resolveClientOptions(options);
    this.options = resolved;
    if (resolved.mode === 'directory') {
      if (shared)
        throw new InvalidOptionsError(
          'from',
          'a CairnClient reads ZooKeeper: use connect({ from }) for a directory',
        );
      this.keeper = undefined;
      this.liveSource = this.currentSource = 'directory';
      this.watcher = this.watchDirectory(resolved);
      return;
    }
    this.liveSource = 'zookeeper';
    const { endpoint, connectString, layout, service, env } = resolved;
    const onAttemptFailed = (error: unknown, failures: number) => {
      if (failures === 1 && this.phase === 'running')
        this.warn(
          new SdkWarning(
            'ZOOKEEPER_UNREACHABLE',
            `cannot reach ZooKeeper at ${connectString}: ${(error as Error).message}; serving the ` +
              `configuration of commit ${this.commit?.slice(0, 12)} meanwhile and retrying`,
            { cause: error },
          ),
        );
    };
    const keeper = shared?.keeper ?? new SessionKeeper({ endpoint, onAttemptFailed });
    this.keeper = keeper;
    const onSession = () => this.setConnection('connected');
    const onState = (state: ZkSessionState) => this.onSessionState(state);
    keeper.on('session', onSession);
    keeper.on('state', onState);
    if (shared) {
      const stopHearing = shared.onAttemptFailed(onAttemptFailed);
      const forget = shared.attach(this);
      this.detach = () => {
        keeper.off('session', onSession);
        keeper.off('state', onState);
        stopHearing();
        forget();
      };
    }
    const watcher = new EnvironmentWatch({
      keeper,
      layout,
      service,
      env,
      // While the environment's configuration rides a release's rollout, the instance serves the
      // snapshot assigned to its host, as the host's agent does.
      host: resolved.instance?.host ?? hostname(),
      resyncIntervalMs: RESYNC_INTERVAL_MS,
      // A client that started from its cache holds most of the content already.
      known: () => (this.snapshot ?? this.seed)?.contentsById(),
      // A cache whose manifest the pointer names is confirmed whole: no manifest, no content read.
      // While the cache is still read at start, the pointer's read waits for it. A snapshot with a
      // file whose bytes failed their id is not whole.
      held: () => {
        const holding = this.snapshot ?? this.seed;
        return holding
          ? wholeHeld(holding)
          : this.seeding?.then(
              (seed) => (seed ? wholeHeld(seed) : undefined),
              () => undefined,
            );
      },
      // The cache's files are checked against their ids before the watch reads again (it would
      // lend their bytes); those that fail are forgotten first (repairDamaged).
      settle: () => this.contentsChecked,
    });
    this.watcher = watcher;
    watcher.on('read', (read) => this.onRead(snapshotReadOf(read)));
    watcher.on('error', (error, failures) => {
      if (failures === 1 && this.phase !== 'closed')
        this.warn(
          new SdkWarning(
            'SNAPSHOT_READ_FAILED',
            `cannot read ${layout.environment(service, env)}: ${(error as Error).message}; reading again`,
            { cause: error },
          ),
        );
    });
    if (resolved.cacheDir !== undefined)
      this.cache = new SnapshotCache(resolved.cacheDir, service, env, (warning) => this.warn(warning));
    if (resolved.instance) {
      this.registration = new EphemeralNode({
        keeper,
        path: layout.instance(service, env, resolved.instance.id),
        onError: (error) =>
          this.warn(
            error instanceof EphemeralNodeConflictError
              ? new SdkWarning(
                  'REGISTRATION_CONFLICT',
                  `${error.path} belongs to another live session: give each instance its own id (option instance.id)`,
                )
              : new SdkWarning(
                  'REGISTRATION_FAILED',
                  `cannot register this instance at ${layout.instance(service, env, resolved.instance?.id ?? '')}: ${(error as Error).message}; retrying`,
                  { cause: error },
                ),
          ),
      });
    }
  }

  /** Offline mode: the directory's files, read again when they change. */
  private watchDirectory(options: ResolvedDirectoryOptions): RepoDirectoryWatch {
    const watcher = new RepoDirectoryWatch({ dir: options.from, service: options.service, env: options.env });
    watcher.on('read', (read) => this.onRead(read));
    watcher.on('error', (error, failures) => {
      if (this.phase === 'starting') {
        this.firstError = error;
        this.onFirstRead?.();
      } else if (failures === 1 && this.phase === 'running')
        this.warn(
          new SdkWarning(
            'SNAPSHOT_READ_FAILED',
            `cannot read ${watcher.dir}: ${(error as Error).message}; keeping commit ${this.commit?.slice(0, 12)}`,
            { cause: error },
          ),
        );
    });
    return watcher;
  }

  /** The ZooKeeper options: only ever asked for outside offline mode. */
  private get zk(): ResolvedConnectOptions {
    if (this.options.mode === 'directory')
      throw new Error('a client reading a directory has no ZooKeeper options');
    return this.options;
  }

  // ——— lifecycle ———

  /**
   * Resolves once the client serves a configuration: from ZooKeeper, or — when ZooKeeper cannot be
   * read within connectTimeoutMs — from the cache, catching up in the background. Rejects with
   * ZooKeeperUnreachableError when neither works, EnvironmentNotFoundError when ZooKeeper has no such
   * service or environment, ConfigRejectedError when validation refuses what there is.
   */
  async start(): Promise<this> {
    if (this.phase !== 'new')
      throw new ClientStateError(
        'CLIENT_ALREADY_STARTED',
        'start() was already called on this client; create a new one',
      );
    this.phase = 'starting';
    const deadline = Date.now() + this.options.connectTimeoutMs;
    let cached: ConfigSnapshot | undefined;
    try {
      // The session connects, and the pointer is read, while the cache is read: the first read then
      // waits for the cache, since what it holds need not be read from ZooKeeper again (by content
      // id), and a pointer naming the cache's manifest confirms it whole.
      this.keeper?.start();
      this.seeding = this.readCache().then((seed) => {
        this.seed = seed;
        return seed;
      });
      // A failure is start()'s to report, below; the pointer's read then reads everything.
      this.seeding.catch(() => undefined);
      this.watcher.start();
      cached = await this.seeding;
      this.seeding = undefined;
      // A shared session may be connected already: its `session` event will not come again.
      if (this.keeper?.connected || this.options.mode === 'directory') this.setConnection('connected');
      await this.waitForFirstRead(deadline - Date.now());
      this.adoptFirst(cached);
      this.seed = undefined;
    } catch (error) {
      await this.close();
      throw error;
    }
    this.phase = 'running';
    const { logger, service, env } = this.options;
    if (this.currentSource === 'cache') {
      const { connectString } = this.zk;
      this.emitSafely('source', 'cache');
      if (!this.firstRead)
        this.warn(
          new SdkWarning(
            'ZOOKEEPER_UNREACHABLE',
            `cannot reach ZooKeeper at ${connectString}: started on the cached configuration of commit ` +
              `${this.commit?.slice(0, 12)}; catching up once ZooKeeper answers`,
          ),
        );
    }
    logger.info(
      { service, env, commit: this.commit, source: this.currentSource },
      this.currentSource === 'cache'
        ? 'serving the cached configuration until ZooKeeper can be read'
        : 'serving the configuration',
    );
    this.registration?.start(encodeInstanceRecord(this.instanceRecord()));
    // A cache that already holds what ZooKeeper served is not written again, unless in an older format.
    if (
      this.currentSource === 'zookeeper' &&
      (this.seedOutdated || !(cached && this.snapshot?.sameAs(cached)))
    )
      this.writeCache();
    this.checkCachedContents();
    // Once connect() resolves the instance is visible to discovery, unless registering fails (a warning).
    if (this.registration && this.keeper?.connected)
      await settledWithin(this.registration, deadline - Date.now());
    return this;
  }

  /** Stops watching, removes this instance's registration, finishes the cache write, closes the session. */
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.onFirstRead?.();
    // A read in flight ends when the session closes below; waiting for it first could take a deadline.
    const watchClosed = this.watcher.close();
    for (const stream of this.streams) stream.end();
    // The newest applied snapshot reaches the cache; the registration is removed below anyway.
    if (this.recordTimer) {
      clearTimeout(this.recordTimer);
      this.recordTimer = undefined;
      this.writeCache();
    }
    await Promise.all([...this.elections].map((election) => election.close()));
    await this.registration?.close().catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not remove the instance registration');
    });
    await this.cache?.close();
    if (this.detach) this.detach();
    else await this.keeper?.close();
    await watchClosed;
    this.setConnection('closed');
  }

  // ——— reading ———

  /** Where the configuration served now came from. */
  get source(): ConfigSource {
    return this.currentSource;
  }

  get connection(): ConnectionState {
    return this.connectionState;
  }

  /** The commit whose configuration is served. */
  get commit(): string | undefined {
    return this.snapshot?.commit;
  }

  /** Who made the commit served, when and why. */
  get change(): ChangeInfo | undefined {
    return this.snapshot?.change;
  }

  /** The node under `/instances/<service>/<env>/` that describes this instance, when it registers. */
  get instancePath(): string | undefined {
    return this.registration?.path;
  }

  /** The newest commit refused by validation, while the service still runs an older one. */
  get rejected(): { readonly commit: string; readonly reason: string } | undefined {
    return this.lastRejected;
  }

  /**
   * A file's value, by its type: yaml, json, toml → data; properties → { key: string }; ini →
   * { section: { key: string } }; other files → their text, or a Uint8Array when not UTF-8. Values are
   * frozen. Throws ConfigFileNotFoundError for a file the environment does not have.
   */
  get<T = unknown>(file: string): T {
    const snapshot = this.requireSnapshot();
    const result = snapshot.value(file);
    if (!result) throw new ConfigFileNotFoundError(file, snapshot.files());
    this.requireIntact(snapshot, file);
    // Every file served was parsed when its commit was applied.
    if (!result.ok) throw new CairnError('FILE_UNPARSABLE', result.reason);
    return exposed(result.value) as T;
  }

  /** A file's bytes exactly as committed (a copy). */
  bytes(file: string): Uint8Array {
    const snapshot = this.requireSnapshot();
    const bytes = snapshot.bytes(file);
    this.requireIntact(snapshot, file);
    if (!bytes) throw new ConfigFileNotFoundError(file, snapshot.files());
    return bytes.slice();
  }

  has(file: string): boolean {
    return this.snapshot?.has(file) ?? false;
  }

  /** Every file path of the environment, sorted. */
  files(): string[] {
    return this.snapshot?.files() ?? [];
  }

  /**
   * One value of a file, by key path (`ranking.maxResults`, `ranking.models[0].name`; `''` for the
   * whole file). With a Standard Schema (Zod, Valibot…) its type is the schema's output; with a JSON
   * Schema, the schema checks the `T` given; with only a default, the value must have the default's
   * type. Throws ValueNotFoundError (`VALUE_NOT_FOUND`) for a missing value without a default,
   * ValueInvalidError (`VALUE_INVALID`) for a value the schema refuses, KeyPathError
   * (`INVALID_KEY_PATH`) for a malformed path.
   */
  value<S extends StandardSchemaV1>(
    file: string,
    path: string,
    options: { readonly schema: S; readonly default?: StandardSchemaOutput<S> },
  ): StandardSchemaOutput<S>;
  /** With a JSON Schema: `T` is what the schema describes, and ajv checks the value against it. */
  value<T = unknown>(
    file: string,
    path: string,
    options: { readonly schema: JsonSchema; readonly default?: T },
  ): T;
  /** With only a default: the value must be of the default's type (a number for 50). */
  value<T>(file: string, path: string, options: { readonly default: T; readonly schema?: undefined }): T;
  /** Without a schema or default nothing is known of the value: `unknown`, never a cast. */
  value(file: string, path: string): unknown;
  value(file: string, path: string, options?: ValueOptions): unknown {
    const snapshot = this.requireSnapshot();
    const rule = compileValueRule(file, path, options);
    const parsed = snapshot.value(file);
    this.requireIntact(snapshot, file);
    const resolved = rule.resolve(parsed);
    if (resolved.kind === 'missing') throw new ValueNotFoundError(file, path, resolved);
    if (resolved.kind === 'invalid') throw new ValueInvalidError(file, path, resolved.reason);
    return exposed(resolved.value);
  }

  // ——— watching ———

  /**
   * Calls `listener(value, change)` when a commit changes the value at `path` in `file` (deep
   * equality: a commit that rewrites the file and leaves the value as it was calls nothing). Options
   * as for value(); a value missing without a default is delivered as undefined. A new value the
   * schema refuses is not delivered (a `VALUE_INVALID` warning): the listener keeps the last one.
   * Returns the function that unsubscribes.
   */
  watchValue<S extends StandardSchemaV1>(
    file: string,
    path: string,
    listener: ValueListener<StandardSchemaOutput<S>>,
    options: { readonly schema: S; readonly default: StandardSchemaOutput<S> },
  ): () => void;
  watchValue<S extends StandardSchemaV1>(
    file: string,
    path: string,
    listener: ValueListener<StandardSchemaOutput<S> | undefined>,
    options: { readonly schema: S },
  ): () => void;
  watchValue<T = unknown>(
    file: string,
    path: string,
    listener: ValueListener<T>,
    options: { readonly schema: JsonSchema; readonly default: T },
  ): () => void;
  watchValue<T = unknown>(
    file: string,
    path: string,
    listener: ValueListener<T | undefined>,
    options: { readonly schema: JsonSchema },
  ): () => void;
  watchValue<T>(
    file: string,
    path: string,
    listener: ValueListener<T>,
    options: { readonly default: T; readonly schema?: undefined },
  ): () => void;
  watchValue(file: string, path: string, listener: ValueListener<unknown>): () => void;
  watchValue(file: string, path: string, listener: ValueListener, options?: ValueOptions): () => void {
    this.requireOpen();
    if (typeof listener !== 'function')
      throw new TypeError('watchValue(file, path, listener, options?) takes a function as listener');
    const rule = compileValueRule(file, path, options);
    const current = (): ValueResolution => rule.resolve(this.snapshot?.value(file));
    const first = current();
    let last: unknown = first.kind === 'value' ? first.value : undefined;
    return this.watch(file, (_value, change) => {
      const next = current();
      if (next.kind === 'invalid') {
        this.warn(
          new SdkWarning(
            'VALUE_INVALID',
            `commit ${change.commit.slice(0, 12)}: ${new ValueInvalidError(file, path, next.reason).message}; its listener keeps the previous value`,
          ),
        );
        return;
      }
      const value = next.kind === 'value' ? next.value : undefined;
      if (isDeepStrictEqual(value, last)) return;
      last = value;
      return listener(exposed(value), change);
    });
  }

  /**
   * Calls `listener(value, change)` each time a commit changes `file` (value undefined: removed).
   * Returns the function that unsubscribes.
   */
  watch<T = unknown>(file: string, listener: FileListener<T>): () => void {
    this.requireOpen();
    if (typeof file !== 'string' || typeof listener !== 'function')
      throw new TypeError('watch(file, listener) takes a file path and a function');
    let listeners = this.fileListeners.get(file);
    if (!listeners) {
      listeners = new Set();
      this.fileListeners.set(file, listeners);
    }
    const entry = listener as FileListener;
    listeners.add(entry);
    return () => {
      listeners.delete(entry);
      if (listeners.size === 0 && this.fileListeners.get(file) === listeners) this.fileListeners.delete(file);
    };
  }

  /** The changes as an async iterator; a slow consumer gets them coalesced. Ends when the client closes. */
  changes(): AsyncIterableIterator<ConfigChange> {
    this.requireOpen();
    const stream = new ChangeStream(() => this.streams.delete(stream));
    this.streams.add(stream);
    return stream;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ConfigChange> {
    return this.changes();
  }

  // ——— active/standby ———

  /**
   * Joins the active/standby election `name` of this service's instances in this environment, over
   * this client's session: one instance at a time is active. `onActive(lease)` runs when this one
   * becomes active (work while `lease.isValid()`), `onStandby()` when it is or becomes a standby.
   * Resolves once it is either (or after connectTimeoutMs, still trying); closes with the client.
   */
  async elect(name: string, handlers: ElectHandlers): Promise<ActiveStandby> {
    this.requireOpen();
    if (!this.keeper)
      throw new ClientStateError(
        'CLIENT_OFFLINE',
        'elections need ZooKeeper: this client reads a directory (from); connect to ZooKeeper to elect',
      );
    const { layout, service, env, requestTimeoutMs, logger, connectTimeoutMs } = this.zk;
    const election = new ActiveStandby(name, handlers, {
      keeper: this.keeper,
      attach: (use) => {
        const election = use as ActiveStandby;
        this.elections.add(election);
        return () => this.elections.delete(election);
      },
      layout,
      service,
      env,
      requestTimeoutMs,
      logger,
    });
    return election.start(connectTimeoutMs);
  }

  // ——— internals ———

  private async readCache(): Promise<ConfigSnapshot | undefined> {
    if (!this.cache) return undefined;
    const result = await this.cache.read();
    if (result.kind === 'missing') return undefined;
    if (result.kind !== 'hit') {
      this.warn(
        new SdkWarning(
          result.kind === 'corrupt' ? 'CACHE_CORRUPT' : 'CACHE_UNREADABLE',
          `ignoring the configuration cache ${this.cache.path}: ${result.reason}; it is rewritten from ZooKeeper`,
        ),
      );
      return undefined;
    }
    // The ids are vouched for by the file's checksum (older formats: hashed here). Only applied
    // snapshots are cached, so every file parsed: under the same parse rules, each is parsed again
    // on first use, not now.
    const { change, files, contentIds, manifest, parseRules, contentsUnchecked } = result.snapshot;
    const checked = parseRules === PARSE_RULES_VERSION;
    // Files under no checksum (the current format) are checked against their ids on first use, or
    // after the start: a start confirmed by ZooKeeper does not wait for a hash of every file.
    const unverified = contentsUnchecked === true;
    this.seedOutdated = !unverified;
    const snapshot = ConfigSnapshot.of(change, files, { contentIds, manifest, checked, unverified });
    const failures = this.checkWhole(snapshot);
    // Parsing or validating at start used some files: one whose bytes failed its id keeps the cache out.
    if (snapshot.hasDamage()) {
      this.warnDamagedCache(snapshot.verifyContents(), 'it is read from ZooKeeper instead');
      return undefined;
    }
    if (failures.length > 0) {
      this.options.logger.warn(
        { service: this.options.service, env: this.options.env, commit: snapshot.commit, failures },
        'the cached configuration fails validation: not used',
      );
      return undefined;
    }
    return snapshot;
  }

  private waitForFirstRead(timeoutMs: number): Promise<void> {
    if (this.firstRead || this.firstError !== undefined || timeoutMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.onFirstRead = undefined;
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.onFirstRead = done;
    });
  }

  /** Chooses what to serve first: ZooKeeper's snapshot if it passes, else the cache, else fails. */
  private adoptFirst(cached: ConfigSnapshot | undefined): void {
    const { service, env, connectTimeoutMs } = this.options;
    if (this.phase === 'closed')
      throw new ClientStateError('CLIENT_CLOSED', 'the client was closed while starting');
    const read = this.firstRead;
    if (!read && this.options.mode === 'directory')
      throw (
        this.firstError ??
        new ClientStateError(
          'CLIENT_NOT_STARTED',
          `${this.options.from} was not read within ${connectTimeoutMs} ms`,
        )
      );
    // Served without ZooKeeper's word on it: every file of the cache is checked first.
    const usable = (snapshot: ConfigSnapshot | undefined) => {
      const damaged = snapshot?.verifyContents() ?? [];
      if (damaged.length === 0) return snapshot;
      this.warnDamagedCache(damaged, 'it is not served');
      return undefined;
    };
    if (!read) {
      const { connectString, cacheDir } = this.zk;
      cached = usable(cached);
      if (cached) {
        this.snapshot = cached;
        this.currentSource = 'cache';
        return;
      }
      throw new ZooKeeperUnreachableError(
        connectString,
        connectTimeoutMs,
        this.keeper?.connected
          ? 'connected, but the environment could not be read in time (reads failed or were too slow)'
          : 'could not connect',
        { dir: cacheDir },
      );
    }
    if (read.kind === 'absent')
      throw new EnvironmentNotFoundError(
        service,
        env,
        read.mirrored,
        this.options.mode === 'directory' ? this.options.from : undefined,
      );
    // Files the cache held parse once: the fresh snapshot borrows their values.
    const fresh = snapshotOf(read, cached);
    const failures = this.checkWhole(fresh);
    if (failures.length === 0) {
      this.snapshot = fresh;
      this.currentSource = this.liveSource;
      return;
    }
    cached = usable(cached);
    if (!cached) throw new ConfigRejectedError(fresh.commit, failures);
    this.snapshot = cached;
    this.currentSource = 'cache';
    this.reject(fresh.change, failures);
  }

  private onRead(read: SnapshotRead): void {
    if (this.phase === 'starting') {
      this.firstRead = read;
      this.onFirstRead?.();
      return;
    }
    if (this.phase !== 'running') return;
    if (read.kind === 'absent' && !read.mirrored) {
      // No /head at all: ZooKeeper lost its data or this is another ensemble. Keep what works.
      if (!this.missingWarned) {
        this.missingWarned = true;
        this.warn(
          new SdkWarning(
            'ENVIRONMENT_MISSING',
            `ZooKeeper at ${this.zk.connectString} holds no ${this.zk.layout.head()}: keeping commit ` +
              `${this.commit?.slice(0, 12)} until the syncer mirrors again`,
          ),
        );
      }
      return;
    }
    this.missingWarned = false;
    // The environment went away with a commit (the service or environment was removed): every file
    // is removed, and the commit that removed them is `/head`'s.
    const next =
      read.kind === 'snapshot'
        ? snapshotOf(read, this.snapshot)
        : ConfigSnapshot.of(changeInfoOf(read.revision as Revision), new Map());
    this.apply(next);
  }

  /** Applies a newer snapshot whole, or refuses it whole; then tells listeners, the cache and the registry. */
  private apply(next: ConfigSnapshot): void {
    const previous = this.snapshot as ConfigSnapshot;
    const deltas = next.changesFrom(previous);
    const failures: ValidationFailure[] = [];
    const files: FileChange[] = deltas.map((delta) => {
      let value: unknown;
      if (delta.contentId !== undefined) {
        const parsed = next.value(delta.file);
        if (parsed?.ok) value = parsed.value;
        else failures.push({ file: delta.file, reason: parsed?.reason ?? 'unreadable' });
      }
      const reason = this.options.validators(delta.file, value);
      if (reason !== undefined && (delta.contentId === undefined || value !== undefined))
        failures.push({ file: delta.file, reason });
      const before = delta.previousContentId !== undefined ? previous.value(delta.file) : undefined;
      return { ...delta, value, previousValue: before?.ok ? before.value : undefined };
    });
    if (failures.length > 0) {
      this.reject(next.change, failures);
      this.recordLater();
      return;
    }
    const sourceChanged = this.currentSource !== this.liveSource;
    this.snapshot = next;
    this.currentSource = this.liveSource;
    this.appliedAt = new Date().toISOString();
    this.lastRejected = undefined;
    this.options.logger.info(
      {
        service: this.options.service,
        env: this.options.env,
        commit: next.commit,
        previous: previous.commit,
        files: files.map((f) => f.file),
      },
      files.length > 0 ? 'configuration changed' : 'commit applied (no file of this service changed)',
    );
    if (sourceChanged) this.emitSafely('source', this.liveSource);
    if (files.length > 0) this.deliver({ ...next.change, previousCommit: previous.commit, files });
    this.recordLater();
  }

  /** Writes the cache and updates the registration recordTiming.delayMs from now, with what is newest then. */
  private recordLater(): void {
    if (this.recordTimer || this.phase === 'closed') return;
    this.recordTimer = setTimeout(() => {
      this.recordTimer = undefined;
      if (this.phase !== 'running') return;
      this.writeCache();
      this.registration?.update(encodeInstanceRecord(this.instanceRecord()));
    }, recordTiming.delayMs);
  }

  private deliver(change: ConfigChange): void {
    const files = change.files.map((file) =>
      file.value instanceof Uint8Array ? { ...file, value: file.value.slice() } : file,
    );
    const delivered: ConfigChange = { ...change, files };
    const info: ChangeInfo = {
      commit: change.commit,
      author: change.author,
      message: change.message,
      time: change.time,
    };
    for (const file of files) {
      for (const listener of [...(this.fileListeners.get(file.file) ?? [])]) {
        this.callSafely(() => listener(file.value, info));
      }
    }
    this.emitSafely('change', delivered);
    for (const stream of this.streams) stream.push(delivered);
  }

  /** Every file must parse (those not known to), and every validated file be present and pass. */
  private checkWhole(snapshot: ConfigSnapshot): ValidationFailure[] {
    const failures: ValidationFailure[] = [];
    for (const file of snapshot.uncheckedFiles()) {
      const parsed = snapshot.value(file);
      if (parsed && !parsed.ok) failures.push({ file, reason: parsed.reason });
    }
    for (const file of this.options.validatedFiles) {
      const parsed = snapshot.value(file);
      if (parsed && !parsed.ok) continue;
      const reason = this.options.validators(file, parsed?.value);
      if (reason !== undefined) failures.push({ file, reason });
    }
    return failures;
  }

  private reject(change: ChangeInfo, failures: readonly ValidationFailure[]): void {
    const reason = failures.map((f) => `${f.file}: ${f.reason}`).join('; ');
    this.lastRejected = { commit: change.commit, reason };
    this.options.logger.warn(
      { service: this.options.service, env: this.options.env, commit: change.commit, failures },
      'commit refused by validation: keeping the configuration served',
    );
    this.emitSafely('rejected', { ...change, failures });
  }

  private writeCache(): void {
    const snapshot = this.snapshot;
    if (!this.cache || !snapshot) return;
    // Never written with bytes that fail their id: the snapshot read again replaces this one.
    if (snapshot.verifyContents().length > 0) return;
    this.cache.write(
      {
        service: this.options.service,
        env: this.options.env,
        change: snapshot.change,
        files: snapshot.fileBytes(),
        contentIds: snapshot.contentIds(),
        manifest: snapshot.manifest(),
      },
      // Clients of the process serving the same snapshot write the same bytes: encoded once.
      snapshot,
    );
  }

  private instanceRecord(): InstanceRecord {
    const instance = this.zk.instance as NonNullable<ResolvedConnectOptions['instance']>;
    const snapshot = this.snapshot;
    return {
      id: instance.id,
      service: this.options.service,
      env: this.options.env,
      host: instance.host,
      ...(instance.port !== undefined ? { port: instance.port } : {}),
      pid: process.pid,
      startedAt: this.startedAt,
      ...(snapshot ? { commit: snapshot.commit } : {}),
      ...(this.appliedAt ? { appliedAt: this.appliedAt } : {}),
      // Only clients of ZooKeeper register: the source is ZooKeeper or their cache.
      source: this.currentSource as 'zookeeper' | 'cache',
      files: snapshot ? Object.fromEntries(snapshot.contentIds()) : {},
      ...(this.lastRejected ? { rejected: this.lastRejected } : {}),
    };
  }

  private onSessionState(state: ZkSessionState): void {
    if (state === 'closed') return;
    const previous = this.connectionState;
    this.setConnection(state);
    if (this.phase !== 'running' || previous === state) return;
    const fields = { service: this.options.service, env: this.options.env, commit: this.commit };
    // Once when lost and once when back, however many attempts between.
    if (state === 'disconnected' && previous === 'connected')
      this.options.logger.warn(
        { ...fields, code: 'CONNECTION_LOSS' },
        'disconnected from ZooKeeper: serving the current configuration meanwhile',
      );
    else if (state === 'connected' && (previous === 'disconnected' || previous === 'expired'))
      this.options.logger.info(fields, 'connected to ZooKeeper again');
  }

  private setConnection(state: ConnectionState): void {
    if (this.connectionState === state) return;
    this.connectionState = state;
    this.emitSafely('connection', state);
  }

  private warn(warning: SdkWarning): void {
    this.options.logger.warn(
      { service: this.options.service, env: this.options.env, code: warning.code, err: warning },
      warning.message,
    );
    this.emitSafely('warning', warning);
  }

  /** Emits to each listener on its own: one that throws neither stops the others nor the client. */
  private emitSafely<E extends keyof ServiceConfigEvents>(event: E, ...args: ServiceConfigEvents[E]): void {
    for (const listener of this.rawListeners(event)) {
      this.callSafely(() => (listener as (...a: unknown[]) => unknown).apply(this, args));
    }
  }

  private callSafely(call: () => unknown): void {
    const report = (error: unknown) => {
      const warning = new SdkWarning(
        'LISTENER_FAILED',
        `a configuration listener failed: ${(error as Error)?.message ?? String(error)}`,
        { cause: error },
      );
      this.options.logger.warn(
        { service: this.options.service, env: this.options.env, err: error },
        warning.message,
      );
      // Not through emitSafely: a failing warning listener must not loop.
      for (const listener of this.rawListeners('warning')) {
        try {
          (listener as (w: SdkWarning) => void).call(this, warning);
        } catch {
          // Already logged above; nothing more can be done for a listener that fails on its own warning.
        }
      }
    };
    try {
      const result = call();
      if (result instanceof Promise) result.catch(report);
    } catch (error) {
      report(error);
    }
  }

  private requireSnapshot(): ConfigSnapshot {
    if (!this.snapshot)
      throw new ClientStateError(
        'CLIENT_NOT_STARTED',
        'no configuration yet: await start() (or use connect())',
      );
    return this.snapshot;
  }

  /**
   * Throws when the file's cached bytes failed their content id, and has them read again: a damaged
   * file is never served.
   */
  private requireIntact(snapshot: ConfigSnapshot, file: string): void {
    if (!snapshot.damaged(file)) return;
    this.repairDamaged(snapshot);
    throw new CairnError(
      'FILE_DAMAGED',
      `the cached copy of ${file} is damaged (its bytes do not match its content id); it is being read again from ZooKeeper (a CACHE_CORRUPT warning says which): try again shortly`,
    );
  }

  /**
   * After a start from the cache, checks its files against their ids in the background; files that
   * fail are read again from ZooKeeper.
   */
  private checkCachedContents(): void {
    const snapshot = this.snapshot;
    if (!snapshot || snapshot.unverifiedFiles().length === 0) return;
    const checked = checkContentsInBackground(snapshot, () => this.phase === 'closed').then((damaged) => {
      if (damaged.length > 0 && this.phase === 'running') this.repairDamaged(snapshot);
      if (this.contentsChecked === checked) this.contentsChecked = undefined;
    });
    this.contentsChecked = checked;
  }

  /**
   * Reads the environment again from ZooKeeper, holding nothing the watch kept: the snapshot is not
   * whole any more (see wholeHeld), and its damaged files are not lent (contentsById), so exactly
   * those are read again. The snapshot read replaces this one, and the cache is rewritten.
   */
  private repairDamaged(snapshot: ConfigSnapshot): void {
    if (this.repairing === snapshot || !(this.watcher instanceof EnvironmentWatch)) return;
    this.repairing = snapshot;
    this.warnDamagedCache(snapshot.verifyContents(), 'read again from ZooKeeper');
    this.watcher.forget();
    this.watcher.request();
  }

  private warnDamagedCache(damaged: readonly string[], outcome: string): void {
    const shown = damaged.slice(0, 5).join(', ') + (damaged.length > 5 ? ', …' : '');
    this.warn(
      new SdkWarning(
        'CACHE_CORRUPT',
        `the configuration cache ${this.cache?.path}: ${damaged.length} file(s) do not match their content id (${shown}); ${outcome}, and the cache is rewritten`,
      ),
    );
  }

  private requireOpen(): void {
    if (this.phase === 'closed')
      throw new ClientStateError('CLIENT_CLOSED', 'this client is closed: connect() again to watch');
  }
}

/**
 * The snapshot a read names. ZooKeeper's reads (ids and manifest known) give the snapshot every
 * client of the process that read the same commit serves; `previous` lends parsed values.
 */
function snapshotOf(
  read: Extract<SnapshotRead, { kind: 'snapshot' }>,
  previous: ConfigSnapshot | undefined,
): ConfigSnapshot {
  const change = changeInfoOf(read.revision);
  // The pointer confirmed what the client holds (its cache at start): nothing to build.
  if (previous && read.files === previous.fileBytes()) return previous.at(change);
  const { contentIds, manifest } = read;
  return contentIds && manifest !== undefined
    ? ConfigSnapshot.ofRead(change, read.files, { contentIds, manifest, previous })
    : ConfigSnapshot.of(change, read.files, { contentIds, manifest, previous });
}

/** What ZooKeeper's environment read says, as the client takes it from any source. */
function snapshotReadOf(read: EnvironmentRead): SnapshotRead {
  if (read.kind === 'snapshot')
    return {
      kind: 'snapshot',
      revision: read.snapshot.pointer.revision,
      files: read.snapshot.files,
      contentIds: read.snapshot.contentIds,
      manifest: read.snapshot.pointer.manifest,
    };
  return read.revision !== undefined
    ? { kind: 'absent', mirrored: read.mirrored, revision: read.revision }
    : { kind: 'absent', mirrored: read.mirrored };
}

function settledWithin(registration: EphemeralNode, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, Math.max(0, timeoutMs));
    registration.settled().then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The snapshot a pointer naming its manifest confirms; undefined once a file failed its id. */
function wholeHeld(snapshot: ConfigSnapshot): HeldSnapshot | undefined {
  return snapshot.hasDamage() ? undefined : snapshot.held();
}

/** Bytes are the one value that cannot be frozen: hand out copies. */
function exposed(value: unknown): unknown {
  return value instanceof Uint8Array ? value.slice() : value;
}
