import type { Logger } from 'pino';
import {
  type ApprovalRecord,
  type ConfigRepo,
  createRepoModelCache,
  DEFAULT_NOTES_REF,
  type DesiredState,
  type Diagnostic,
  type DrainedSnapshots,
  type DrainingHosts,
  decodeApprovalRecord,
  decodeHeadRecord,
  decodeHistoryRecord,
  desiredStateOf,
  destructiveChangeDiagnostics,
  diagnostic,
  drainedSnapshotsOf,
  encodeHeadRecord,
  encodeHistoryRecord,
  errorLogFields,
  type FencedWriter,
  type HeadRecord,
  type HistoryRecord,
  isEmptyPublication,
  MAX_APPROVAL_NOTE_BYTES,
  newestMatchingTag,
  type OmittedApprovals,
  type PublishedState,
  parseConfigFilesAhead,
  planPublication,
  prepareDesiredState,
  publicationCounts,
  publishedStateAfter,
  type RepoModelCache,
  type Revision,
  type RevisionedRepo,
  SETTINGS_FILE,
  START_OF_FILE,
  type TagRef,
  unsafePathReason,
  type ZkLayout,
  type ZkOp,
  type ZkSession,
} from '../core/index.js';
import { checkManifest, type RepoValidation, validateRepoInSlices } from '../schemas/index.js';
import { CommitRefusedError } from './errors.js';
import {
  type CommitInfo,
  type GitSource,
  TreeLimitError,
  type TreeSnapshot,
  type TreeUpdate,
  UnsafeTreeEntryError,
} from './git/index.js';
import type { ValidationCache } from './validation-cache.js';
import { ContentCollector } from './zk/collect-content.js';
import { historySeqs, trimHistory } from './zk/history.js';
import { publish } from './zk/publish.js';
import { readMirroredFiles } from './zk/read-mirrored-files.js';
import { readPublishedState } from './zk/read-published-state.js';
import { clearRefusal, clearRefusalOps, recordRefusal } from './zk/refusal.js';

export type SyncOutcome =
  | {
      readonly kind: 'mirrored';
      readonly seq: number;
      /** What each environment serves now. */
      readonly serving: Readonly<Record<string, Revision>>;
      readonly commit: string;
      readonly previous?: string;
      readonly forced: boolean;
      readonly transactions: number;
      readonly staged: boolean;
      readonly operations: number;
      /** Environments whose snapshot changed. */
      readonly environments: number;
      /** Content nodes written: files (and manifests) ZooKeeper did not hold yet. */
      readonly contentWritten: number;
      /** The znodes the publication created, updated and removed (`/head` and history aside): what the bot's plan counts. */
      readonly written: { readonly creates: number; readonly updates: number; readonly removes: number };
      /** Where the time went, in milliseconds. */
      readonly timings: SyncTimings;
      /** Files this sync parsed: those neither the models in memory nor the validation cache knew. */
      readonly filesParsed: number;
    }
  | {
      readonly kind: 'up-to-date';
      readonly commit: string;
      readonly seq: number;
      readonly serving: Readonly<Record<string, Revision>>;
      /** Files this sync parsed (0 when it had nothing to read). */
      readonly filesParsed: number;
    }
  | { readonly kind: 'refused'; readonly error: CommitRefusedError };

/** How long after mirroring a commit the syncer still looks for its approval record. */
const LATE_APPROVALS_WINDOW_MS = 10 * 60 * 1000;
/** What the syncer remembers of ZooKeeper is checked against ZooKeeper itself at least this often. */
const FULL_RECONCILE_INTERVAL_MS = 5 * 60 * 1000;
/** Content is collected after each publication, and at least this often (pins come and go). */
const COLLECTION_INTERVAL_MS = 10 * 60 * 1000;

export interface SyncTimings {
  /**
   * Until the fetch answered. On a first pass the head the clone holds is read and validated
   * meanwhile: that work is counted in `readMs` and `validateMs`, which then overlap this.
   */
  readonly fetchMs: number;
  /** Reading `/head`, the trees (only what changed) and the commit. */
  readonly readMs: number;
  /** Parsing and validating the files that changed. */
  readonly validateMs: number;
  /** Computing the desired state and publishing the difference. */
  readonly writeMs: number;
  /**
   * Of `writeMs`, waiting for what ZooKeeper holds (every pointer, record and content listing, read
   * alongside the fetch and the read of git): 0 when what this replica last wrote is trusted, as on
   * every commit of a term but its first.
   */
  readonly stateMs: number;
}

export interface MirrorOptions {
  readonly layout: ZkLayout;
  readonly source: GitSource;
  /** The branch mirrored: its head is `/head`, and environments that follow it serve it. */
  readonly branch: string;
  readonly logger: Logger;
  /** Where the bot records approvals as git notes. Default refs/notes/cairn-approvals. */
  readonly notesRef?: string;
  readonly now?: () => Date;
  /**
   * Parse verdicts kept between runs (the cache directory's); saved after each pass that read a
   * commit. May be given while it is still being read from disk: git is read meanwhile, and the
   * verdicts are waited for only when the first files are to be validated.
   */
  readonly validationCache?: ValidationCache | Promise<ValidationCache>;
}

/** Where a sync writes: the leader's session and fenced writer, and which term of leadership it is. */
export interface SyncTarget {
  readonly session: ZkSession;
  readonly writer: FencedWriter;
  /** Changes with each term of leadership: what was remembered of ZooKeeper is dropped then. */
  readonly term: number;
}

/** A published state whose set of content ids is the mirror's own, to update in place. */
type OwnedState = PublishedState & { readonly contents: Set<string> };

interface WrittenState {
  readonly commit: string;
  readonly term: number;
  readonly at: number;
  readonly state: OwnedState;
  /** The tag patterns of the environments that follow tags, and what matched each. */
  readonly tracking: ReadonlyMap<string, { readonly pattern: string; readonly commit: string | undefined }>;
}

/** One commit being followed: the branch head, or the tag of an environment that follows tags. */
interface Lane {
  snapshot?: TreeSnapshot;
  /** The commit read before `snapshot`'s, and what changed between them: kept when the same commit is read again. */
  previousCommit?: string;
  changed: ReadonlySet<string>;
  /** What validating `snapshot`'s tree found: the same tree read again is not validated again. */
  validated?: { readonly tree: TreeSnapshot['tree']; readonly result: RepoValidation };
  /** The lane's last commit that validated: what a refused commit leaves published, and drains from. */
  accepted?: TreeSnapshot;
  readonly cache: RepoModelCache;
}

/** Time spent validating during one sync, the rest of reading being measured around it. */
interface PhaseClock {
  validateMs: number;
}

/** What reading the cached head ahead of the fetch cost, counted in the pass that follows it. */
export interface ReadAhead {
  readonly readMs: number;
  readonly validateMs: number;
  readonly filesParsed: number;
}

interface LoadedCommit {
  readonly repo: ConfigRepo;
  readonly changed: ReadonlySet<string>;
  readonly previousCommit: string | undefined;
}

function upToDate(head: HeadRecord, filesParsed = 0): SyncOutcome {
  return { kind: 'up-to-date', commit: head.commit, seq: head.seq, serving: head.environments, filesParsed };
}

/**
 * Mirrors the branch into ZooKeeper, one commit at a time, as a reconciler: it reads what ZooKeeper
 * holds, what git says (the branch head, and the newest matching tag of each environment that follows
 * tags), computes the desired state (core's `desiredStateOf`, the same the bot previews) and publishes
 * the difference (core's `planPublication`).
 *
 * What it remembers between calls only saves work: git trees and parsed models (kept across terms of
 * leadership, and brought up to date by `follow` while standing by, so a standby that takes over is
 * warm), and what it last wrote, trusted only within one term while `/head` still names that commit,
 * and re-read from ZooKeeper every few minutes anyway. A crash at any point is followed by a correct
 * sync.
 */
export class Mirror {
  private readonly options: MirrorOptions;
  /** Separate caches per lane, so the branch and a tag do not evict each other's work. */
  private readonly lanes = new Map<string, Lane>();
  private readonly collector: ContentCollector;
  private written: WrittenState | undefined;
  private refused: { readonly key: string; readonly error: CommitRefusedError } | undefined;
  /** Whether `/refused` may be in ZooKeeper: unknown (so true) until this mirror has looked. */
  private refusalMayExist = true;
  private retention = { history: 0, snapshots: 0 };
  /** Files parsed since the current sync began. */
  private filesParsed = 0;
  private collectionNeeded = true;
  /** Counted from the start: the first commits after a start wait for a quiet pass like any other. */
  private lastCollection = Date.now();
  /** The desired state last computed, and of what: a standby computes it for the pass that takes over. */
  private desired: { readonly of: readonly unknown[]; readonly state: DesiredState } | undefined;
  /** The validation cache, once open (see MirrorOptions); undefined without one. */
  private readonly validationCache: Promise<ValidationCache | undefined>;
  /** The sync or follow in progress, which the next one waits for. */
  private busy: Promise<unknown> = Promise.resolve();

  constructor(options: MirrorOptions) {
    this.options = options;
    this.collector = new ContentCollector(options.layout);
    this.validationCache = Promise.resolve(options.validationCache).catch((error: unknown) => {
      // The cache only saves work: without it, every file is parsed once again.
      options.logger.warn(errorLogFields(error), 'could not open the validation cache');
      return undefined;
    });
  }

  /** Whether content was last collected longer ago than the collection interval: collect even between commits. */
  get collectionOverdue(): boolean {
    return Date.now() - this.lastCollection > COLLECTION_INTERVAL_MS;
  }

  /** The commit most recently refused, until a later commit mirrors. */
  get refusedCommit(): CommitRefusedError | undefined {
    return this.refused?.error;
  }

  /**
   * The files of the services that opted in to draining (`drainDuringDeploys`) in `env`, rendered
   * with the `draining` hosts marked, from the model of `commit` (the commit the environment serves,
   * as /head names it) and its lane's cache: the inputs of the snapshot the environment serves, so
   * only the drain differs. Undefined while this replica has not loaded that commit (a standby loads
   * each commit as it follows the branch, and at the latest on its first mirror pass).
   */
  drainedSnapshots(env: string, commit: string, draining: DrainingHosts): DrainedSnapshots | undefined {
    for (const lane of this.lanes.values()) {
      if (lane.accepted?.commit !== commit) continue;
      return drainedSnapshotsOf({
        tree: lane.accepted.tree,
        checkManifest,
        cache: lane.cache,
        env,
        draining,
      });
    }
    return undefined;
  }

  /** Fetches the branch (and tags) and mirrors its head. */
  async sync(target: SyncTarget): Promise<SyncOutcome> {
    const started = performance.now();
    const state = this.readStateAhead(target);
    // `/head` is read while git fetches: only this leader writes it, and its passes do not overlap
    // (were it stale all the same, the version-checked flip fails and the pass is retried).
    const headAhead = this.readHead(target.session);
    headAhead.catch(() => undefined);
    const fetched = this.options.source.fetchHead();
    fetched.catch(() => undefined);
    const readAhead = this.readAheadOfFetch();
    const head = await fetched;
    const fetchMs = performance.now() - started;
    return this.exclusively(async () =>
      this.mirrorCommit(target, head, fetchMs, state, headAhead, await readAhead),
    );
  }

  /**
   * On a first pass (a restart, with the clone kept in the cache directory), reads and validates
   * the head the clone holds while the fetch asks the server whether the branch moved: usually the
   * fetch finds that very commit, and otherwise only the difference is read after it. Nothing is
   * published from it: the pass mirrors the head the fetch found. A failure only loses the head start.
   * Called by whoever is about to fetch for this mirror (a sync, the check before a syncer starts).
   */
  readAheadOfFetch(): Promise<ReadAhead | undefined> {
    if (this.lanes.get('branch')?.snapshot) return Promise.resolve(undefined);
    const read = this.exclusively(
      async (): Promise<ReadAhead | undefined> => {
        const commit = await this.options.source.cachedHead();
        if (commit === undefined) return undefined;
        // Read while git lists and reads the tree; the pass asks for it again, and finds it read.
        this.options.source.commitInfo(commit).catch(() => undefined);
        const started = performance.now();
        const clock = { validateMs: 0 };
        this.filesParsed = 0;
        await this.load('branch', commit, clock);
        return {
          readMs: performance.now() - started - clock.validateMs,
          validateMs: clock.validateMs,
          filesParsed: this.filesParsed,
        };
        // Saved by the pass that follows, after its publication.
      },
      { saveVerdicts: false },
    );
    return read.catch((error: unknown) => {
      this.options.logger.debug(errorLogFields(error), 'could not read the cached head ahead of the fetch');
      return undefined;
    });
  }

  /** Mirrors `commit`, a commit already fetched. */
  syncTo(target: SyncTarget, commit: string, fetchMs = 0): Promise<SyncOutcome> {
    return this.exclusively(() => this.mirrorCommit(target, commit, fetchMs, this.readStateAhead(target)));
  }

  /**
   * A standby's pass: fetches the branch, reads and validates its head (and the tags environments
   * follow) as a sync would, and writes nothing, so that the pass that takes over after the leader
   * dies reads and parses only what is newer. Refusing a bad commit is the leader's part.
   */
  async follow(): Promise<{ commit: string; filesParsed: number }> {
    const commit = await this.options.source.fetchHead();
    return this.exclusively(async () => {
      this.filesParsed = 0;
      const branch = await this.load('branch', commit);
      if ('diagnostics' in branch) return { commit, filesParsed: this.filesParsed };
      const tags = await this.options.source.listTags();
      const tagged = await this.resolveTagged(branch, commit, tags, { validateMs: 0 });
      if ('repos' in tagged) {
        const info = await this.options.source.commitInfo(commit);
        await prepareDesiredState([branch.repo, ...revisionedRepos(tagged.repos)]);
        this.desiredStateFor(branch.repo, revisionOf(info), tagged.repos);
      }
      return { commit, filesParsed: this.filesParsed };
    });
  }

  private async mirrorCommit(
    target: SyncTarget,
    commit: string,
    fetchMs: number,
    stateAhead: Promise<PublishedState> | undefined,
    headAhead?: Promise<{ record?: HeadRecord; version?: number }>,
    readAhead?: ReadAhead,
  ): Promise<SyncOutcome> {
    const { layout, source, logger } = this.options;
    // As if the pass had started when the read ahead did: its validation is in the clock, and taken
    // out of the read below with the pass's own.
    const readStarted = performance.now() - (readAhead ? readAhead.readMs + readAhead.validateMs : 0);
    const clock = { validateMs: readAhead?.validateMs ?? 0 };
    if (this.written && this.written.term !== target.term) this.written = undefined;
    this.filesParsed = readAhead?.filesParsed ?? 0;
    const head = await (headAhead ?? this.readHead(target.session));
    const tags = await source.listTags();
    // A refused commit is not looked at again until the branch or a tag moves.
    const key = `${commit} ${tags.map((t) => `${t.name}=${t.commit}`).join(' ')}`;
    if (this.refused?.key === key) return { kind: 'refused', error: this.refused.error };
    const trusted = this.trustedState(head.record?.commit);
    if (head.record?.commit === commit && trusted && sameTracking(this.written?.tracking, tags)) {
      await this.clearRefusal(target);
      await this.addLateApprovals(target, head.record);
      return upToDate(head.record);
    }

    const log = logger.child({ commit });
    const refuse = async (
      refusedCommit: string,
      diagnostics: readonly Diagnostic[],
      tag?: string,
    ): Promise<SyncOutcome> => {
      const error = new CommitRefusedError(refusedCommit, diagnostics);
      // Recorded before it is remembered: a failed write is retried with the next sync.
      await recordRefusal(target, layout, {
        commit: refusedCommit,
        ...(tag !== undefined ? { tag } : {}),
        branchHead: commit,
        refusedAt: (this.options.now?.() ?? new Date()).toISOString(),
        errorCount: error.diagnostics.length,
        diagnostics: error.diagnostics,
      });
      this.refusalMayExist = true;
      this.refused = { key, error };
      log.warn({ code: error.code, errors: error.diagnostics.slice(0, 20) }, error.message);
      return { kind: 'refused', error };
    };
    const branch = await this.load('branch', commit, clock);
    if ('diagnostics' in branch) return refuse(commit, branch.diagnostics);
    const untracked = branchNotTracked(branch.repo, this.options.branch);
    if (untracked) return refuse(commit, [untracked]);

    const info = await source.commitInfo(commit);
    const tagged = await this.resolveTagged(branch, commit, tags, clock);
    if ('refused' in tagged) return refuse(tagged.refused, tagged.diagnostics, tagged.tag);
    const writeStarted = performance.now();
    const readMs = writeStarted - readStarted - clock.validateMs;

    const before = this.desired?.state;
    await prepareDesiredState([branch.repo, ...revisionedRepos(tagged.repos)]);
    const desired = this.desiredStateFor(branch.repo, revisionOf(info), tagged.repos);
    for (const { env, reason } of desired.unserved)
      log.warn({ env }, `environment "${env}" is not served: ${reason}`);
    this.retention = {
      history: branch.repo.limits.historyRetention,
      snapshots: Math.min(branch.repo.limits.snapshotRetention, branch.repo.limits.historyRetention),
    };
    const stateStarted = performance.now();
    const published = trusted ?? (await (stateAhead ?? readPublishedState(target.session, layout)));
    const stateMs = performance.now() - stateStarted;
    const publication = planPublication(layout, published, desired);
    if (
      head.record?.commit === commit &&
      isEmptyPublication(publication) &&
      sameRevisions(head.record.environments, desired.revisions)
    ) {
      this.remember(
        target,
        commit,
        trusted ?? { ...published, contents: new Set(published.contents) },
        tagged.tracking,
      );
      this.refused = undefined;
      await this.clearRefusal(target);
      await this.addLateApprovals(target, head.record);
      return upToDate(head.record, this.filesParsed);
    }

    // The same guard the bot's plan applies to the pull request, here against what ZooKeeper serves.
    if (publication.environments.removed.length > 0 || publication.environments.changed.length > 0) {
      const mirrored = await readMirroredFiles(target.session, layout, published, desired, before);
      const destructive = destructiveChangeDiagnostics(mirrored, desired, branch.repo);
      if (destructive.length > 0) return refuse(commit, destructive);
    }

    // Four reads, of git and of ZooKeeper, none waiting for another.
    const [ancestor, lastSeq, approvals, refusalOps] = await Promise.all([
      head.record ? source.isAncestor(head.record.commit, commit) : true,
      head.record ? head.record.seq : this.lastHistorySeq(target),
      this.readApprovals(commit),
      this.refusalMayExist ? clearRefusalOps(target.session, layout) : [],
    ]);
    const forced = !ancestor;
    if (forced)
      log.warn({ previous: head.record?.commit }, 'the branch was force-pushed: mirroring the new head');
    const seq = lastSeq + 1;
    const syncedAt = (this.options.now?.() ?? new Date()).toISOString();
    const record: HeadRecord = {
      seq,
      commit: info.commit,
      tree: info.tree,
      author: info.author,
      message: info.message,
      time: info.time,
      syncedAt,
      environments: desired.revisions,
      ...(head.record ? { previous: head.record.commit } : {}),
      ...(forced ? { forced } : {}),
    };
    const changed =
      branch.previousCommit !== undefined && branch.previousCommit === head.record?.commit
        ? [...branch.changed].sort()
        : [];
    const history: HistoryRecord = {
      ...record,
      changed,
      changedCount: changed.length,
      snapshots: publication.snapshots,
      ...(approvals ? { approvals } : {}),
    };
    const final: ZkOp[] = [
      head.version === undefined
        ? { op: 'create', path: layout.head(), data: encodeHeadRecord(record) }
        : { op: 'set', path: layout.head(), data: encodeHeadRecord(record), version: head.version },
      { op: 'create', path: layout.historyRecord(seq), data: encodeHistoryRecord(history) },
      ...refusalOps,
    ];

    // Until the write is known to have landed, ZooKeeper's state is uncertain: forget what we wrote.
    this.written = undefined;
    const result = await publish(target.writer, publication, final);
    // What was trusted is this mirror's own to update; a state read from ZooKeeper is copied once.
    const contents = trusted ? trusted.contents : new Set(published.contents);
    this.remember(target, commit, publishedStateAfter(desired, publication, contents), tagged.tracking);
    this.refused = undefined;
    this.refusalMayExist = false;
    this.collectionNeeded = true;
    const timings: SyncTimings = {
      fetchMs,
      readMs,
      validateMs: clock.validateMs,
      writeMs: performance.now() - writeStarted,
      stateMs,
    };
    log.info(
      {
        seq,
        previous: record.previous,
        environments: publication.snapshots.map((s) => `${s.service}/${s.env}`),
        content: publication.newContent.length,
        transactions: result.transactions,
        staged: result.staged,
        timings,
        filesParsed: this.filesParsed,
      },
      'commit mirrored',
    );
    if (result.splitFlip)
      log.warn('the commit changed too many records for one transaction: published in several, /head last');
    // The verdicts are saved while history is trimmed: the pass's end, which says the commit is
    // mirrored (healthz, metrics), waits for one of them, not both.
    await Promise.all([
      trimHistory(target.writer, layout, this.retention.history).catch((error: unknown) => {
        // History is a convenience; a failed trim is retried after the next commit.
        log.warn(errorLogFields(error), 'could not trim /history');
      }),
      this.saveVerdicts(),
    ]);
    return {
      kind: 'mirrored',
      commit,
      seq,
      serving: desired.revisions,
      ...(record.previous ? { previous: record.previous } : {}),
      forced,
      transactions: result.transactions,
      staged: result.staged,
      operations: result.operations,
      environments: publication.snapshots.length,
      contentWritten: publication.newContent.length,
      written: publicationCounts(publication),
      timings,
      filesParsed: this.filesParsed,
    };
  }

  /**
   * Deletes content no longer referenced (see ContentCollector), after a publication or when asked.
   * Content that a kept snapshot needs but ZooKeeper lacks makes the next sync read ZooKeeper afresh
   * and write it again.
   */
  async collect(
    target: SyncTarget,
    force = false,
  ): Promise<{ removed: number; missing: number } | undefined> {
    const due = this.collectionOverdue;
    if (!force && !this.collectionNeeded && !due) return undefined;
    if (this.retention.snapshots === 0) return undefined; // no commit read by this process yet
    const result = await this.collector.collect(target.writer, this.retention.snapshots);
    this.collectionNeeded = false;
    this.lastCollection = Date.now();
    const written = this.written;
    if (written && result.removed.length > 0) {
      // Never believe collected content is still there: a later commit that needs it again stages it.
      const contents = new Set(written.state.contents);
      for (const id of result.removed) contents.delete(id);
      const completeManifests = stillComplete(written.state, this.desired?.state, new Set(result.removed));
      this.written = { ...written, state: { ...written.state, contents, completeManifests } };
    }
    if (result.missing.length > 0) {
      this.written = undefined;
      this.options.logger.error(
        { missing: result.missing.slice(0, 20), count: result.missing.length },
        'content that published snapshots need is missing from ZooKeeper: writing it again',
      );
    } else if (result.removed.length > 0) {
      this.options.logger.info(
        { removed: result.removed.length, kept: result.kept },
        'unreferenced content collected',
      );
    }
    return { removed: result.removed.length, missing: result.missing.length };
  }

  /** Reads the branch head's repository settings and says what is wrong for mirroring this branch. */
  async checkBranchTracked(commit: string): Promise<Diagnostic | undefined> {
    const branch = await this.exclusively(() => this.load('branch', commit));
    if ('diagnostics' in branch) return undefined; // refused on its own merits by the first sync
    return branchNotTracked(branch.repo, this.options.branch);
  }

  /**
   * core's `desiredStateOf`, computed once for the same models and revisions: models are kept by
   * identity while their files do not change, and a revision is named by its commit and tag.
   */
  private desiredStateFor(
    repo: ConfigRepo,
    revision: Revision,
    tagged: ReadonlyMap<string, RevisionedRepo | undefined>,
  ): DesiredState {
    const of = [
      repo,
      revision.commit,
      ...[...tagged].flatMap(([env, t]) => [env, t?.repo, t?.revision.commit, t?.revision.tag]),
    ];
    const known = this.desired;
    if (known && known.of.length === of.length && known.of.every((part, i) => part === of[i]))
      return known.state;
    const state = desiredStateOf({ branch: { name: this.options.branch, repo, revision }, tagged });
    this.desired = { of, state };
    return state;
  }

  /**
   * Runs `job` after every sync or follow before it: they read and update the same lanes. The
   * verdicts it parsed are saved when it ends, after its publication rather than before: a file
   * written whole costs the commit's readers nothing then.
   */
  private exclusively<T>(
    job: () => Promise<T>,
    options: { saveVerdicts: boolean } = { saveVerdicts: true },
  ): Promise<T> {
    const run = this.busy.then(async () => {
      try {
        return await job();
      } finally {
        if (options.saveVerdicts) await this.saveVerdicts();
      }
    });
    // The caller gets the failure from `run`; the next job only waits for it to end.
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Writes the validation cache when this pass added to it; a failure only loses work. */
  private async saveVerdicts(): Promise<void> {
    await (await this.validationCache)?.save().catch((error: unknown) => {
      // The cache only saves work: without it, the next start parses again.
      this.options.logger.warn(errorLogFields(error), 'could not save the validation cache');
    });
  }

  /**
   * Starts reading what ZooKeeper holds when the pass will not trust what this replica wrote (the
   * first pass of a term, as after a takeover, and every few minutes), so that the read overlaps
   * the fetch and the read of git rather than following them. Not while a commit is refused: a poll
   * that finds it again ends before it would use the state.
   */
  private readStateAhead(target: SyncTarget): Promise<PublishedState> | undefined {
    const written = this.written;
    const trusted = written?.term === target.term && Date.now() - written.at <= FULL_RECONCILE_INTERVAL_MS;
    if (trusted || this.refused) return undefined;
    const read = readPublishedState(target.session, this.options.layout);
    // Awaited where the pass uses it; a pass that ends before (a failure, a refusal) drops it.
    read.catch(() => undefined);
    return read;
  }

  private trustedState(headCommit: string | undefined): OwnedState | undefined {
    const written = this.written;
    if (!written || written.commit !== headCommit) return undefined;
    if (Date.now() - written.at > FULL_RECONCILE_INTERVAL_MS) return undefined;
    return written.state;
  }

  private remember(
    target: SyncTarget,
    commit: string,
    state: OwnedState,
    tracking: WrittenState['tracking'],
  ): void {
    const previous = this.written;
    const at =
      previous && previous.commit === commit && previous.term === target.term ? previous.at : Date.now();
    this.written = { commit, term: target.term, at, state, tracking };
  }

  /**
   * For each environment that follows tags, the model at its newest matching tag (none while no tag
   * matches), read and validated in a lane of its own.
   */
  private async resolveTagged(
    branch: LoadedCommit,
    target: string,
    tags: readonly TagRef[],
    clock: PhaseClock,
  ): Promise<
    | {
        repos: Map<string, RevisionedRepo | undefined>;
        tracking: Map<string, { pattern: string; commit: string | undefined }>;
      }
    | { refused: string; tag: string; diagnostics: readonly Diagnostic[] }
  > {
    const repos = new Map<string, RevisionedRepo | undefined>();
    const tracking = new Map<string, { pattern: string; commit: string | undefined }>();
    for (const env of branch.repo.environments.values()) {
      if (!('tag' in env.tracks)) continue;
      const tag = newestMatchingTag(env.tracks.tag, tags);
      tracking.set(env.name, { pattern: env.tracks.tag, commit: tag?.commit });
      if (!tag) {
        repos.set(env.name, undefined);
        continue;
      }
      const tagged = tag.commit === target ? branch : await this.load(`tag:${env.name}`, tag.commit, clock);
      if ('diagnostics' in tagged)
        return { refused: tag.commit, tag: tag.name, diagnostics: tagged.diagnostics };
      const info = await this.options.source.commitInfo(tag.commit);
      repos.set(env.name, { repo: tagged.repo, revision: { ...revisionOf(info), tag: tag.name } });
    }
    return { repos, tracking };
  }

  /** Reads and validates a commit in a lane: only what changed since the lane's last commit. */
  private async load(
    laneName: string,
    commit: string,
    clock?: PhaseClock,
  ): Promise<LoadedCommit | { diagnostics: readonly Diagnostic[] }> {
    let lane = this.lanes.get(laneName);
    let update: TreeUpdate;
    try {
      update = await this.options.source.readTree(commit, lane?.snapshot);
    } catch (error) {
      // A name git refuses to read, or a tree over the limits, is the commit's fault, as terminal as
      // a validation error.
      if (error instanceof TreeLimitError)
        return { diagnostics: [diagnostic(error.path, START_OF_FILE, 'error', error.rule, error.message)] };
      if (!(error instanceof UnsafeTreeEntryError)) throw error;
      return { diagnostics: [unsafeEntryDiagnostic(error.path)] };
    }
    if (!lane) {
      // Made once the tree is read: the validation cache may still have been opening meanwhile.
      lane = { cache: createRepoModelCache(await this.validationCache), changed: new Set() };
      this.lanes.set(laneName, lane);
    }
    if (update.snapshot !== lane.snapshot) {
      // A commit read again (a standby followed it, a pass is retried) changed what it changed then.
      lane.previousCommit = lane.snapshot?.commit;
      lane.changed = update.changed;
      lane.snapshot = update.snapshot;
    }
    const tree = update.snapshot.tree;
    if (lane.validated?.tree !== tree) {
      const validateStarted = performance.now();
      // What changed is parsed first in slices (all of a first read), then the models are built in
      // slices too: the loop stays free for pings, webhooks and health checks.
      this.filesParsed += await parseConfigFilesAhead(tree, update.changed, lane.cache);
      lane.validated = { tree, result: await validateRepoInSlices(tree, { cache: lane.cache }) };
      if (clock) clock.validateMs += performance.now() - validateStarted;
      this.filesParsed += lane.validated.result.filesParsed;
    }
    const { diagnostics, repo } = lane.validated.result;
    if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
    lane.accepted = update.snapshot;
    return { repo, changed: lane.changed, previousCommit: lane.previousCommit };
  }

  /** The approval record of a commit, if the bot attached one; a failure to read it only loses it. */
  private async readApprovals(commit: string): Promise<ApprovalRecord | OmittedApprovals | undefined> {
    const notesRef = this.options.notesRef ?? DEFAULT_NOTES_REF;
    let note: string | undefined;
    try {
      note = await this.options.source.readNote(notesRef, commit);
    } catch (error) {
      this.options.logger.warn(
        { ...errorLogFields(error), commit },
        'could not read the approval record note',
      );
      return undefined;
    }
    if (note === undefined) return undefined;
    if (Buffer.byteLength(note) > MAX_APPROVAL_NOTE_BYTES)
      return { omitted: `the note is over ${MAX_APPROVAL_NOTE_BYTES} bytes: read it with git notes` };
    try {
      return decodeApprovalRecord(note, `the note ${notesRef} of ${commit}`);
    } catch (error) {
      return { omitted: (error as Error).message };
    }
  }

  /**
   * The bot writes a merge's approval record when GitHub reports the merge, which may be after the
   * syncer mirrored it: for a while after mirroring, look for the note and add it to the commit's
   * history record, which nobody watches.
   */
  private async addLateApprovals(target: SyncTarget, head: HeadRecord): Promise<void> {
    const now = this.options.now?.() ?? new Date();
    if (now.getTime() - Date.parse(head.syncedAt) > LATE_APPROVALS_WINDOW_MS) return;
    const path = this.options.layout.historyRecord(head.seq);
    const node = await target.session.getIfExists(path);
    if (!node) return;
    const history = decodeHistoryRecord(node.data, path);
    if (history.approvals !== undefined || history.commit !== head.commit) return;
    const approvals = await this.readApprovals(head.commit);
    if (approvals === undefined) return;
    await target.writer.set(path, encodeHistoryRecord({ ...history, approvals }), node.stat.version);
    this.options.logger.info({ commit: head.commit, seq: head.seq }, 'approval record added to the history');
  }

  /** `/head` as it is: its record (if it holds a valid one) and its version (if it exists). */
  /** Removes `/refused` once the branch is mirrored, when it may be there. */
  private async clearRefusal(target: SyncTarget): Promise<void> {
    if (!this.refusalMayExist) return;
    await clearRefusal(target, this.options.layout);
    this.refusalMayExist = false;
  }

  private async readHead(session: ZkSession): Promise<{ record?: HeadRecord; version?: number }> {
    const path = this.options.layout.head();
    const head = await session.getIfExists(path);
    if (!head) return {};
    try {
      return { record: decodeHeadRecord(head.data, path), version: head.stat.version };
    } catch (error) {
      this.options.logger.warn(
        errorLogFields(error),
        'ignoring an unreadable /head: it is rewritten by this sync',
      );
      return { version: head.stat.version };
    }
  }

  /** Without a readable `/head`, numbering continues after the newest history record. */
  private async lastHistorySeq(target: SyncTarget): Promise<number> {
    return (await historySeqs(target.writer, this.options.layout))[0] ?? 0;
  }
}

/**
 * The manifests of `state` still complete once `removed` is collected: those whose files, as the
 * desired state last computed names them, were none of it. The collector keeps every file a pointer
 * names, so this is all of them unless something is amiss; a manifest that state does not name is
 * dropped, and its files are checked again by the next plan.
 */
function stillComplete(
  state: PublishedState,
  desired: DesiredState | undefined,
  removed: ReadonlySet<string>,
): Set<string> {
  const complete = new Set<string>();
  if (!state.completeManifests || !desired) return complete;
  for (const environment of desired.environments.values()) {
    const id = environment.manifestId;
    if (!state.completeManifests.has(id) || complete.has(id)) continue;
    if ([...environment.contents.keys()].every((file) => !removed.has(file))) complete.add(id);
  }
  return complete;
}

/** The models of the environments that follow tags, each once. */
function revisionedRepos(tagged: ReadonlyMap<string, RevisionedRepo | undefined>): Set<ConfigRepo> {
  const repos = new Set<ConfigRepo>();
  for (const revisioned of tagged.values()) if (revisioned) repos.add(revisioned.repo);
  return repos;
}

function revisionOf(info: CommitInfo): Revision {
  return { commit: info.commit, author: info.author, message: info.message, time: info.time };
}

/** The diagnostic of a tree entry git refuses to read: at the entry, saying why the name is unsafe. */
function unsafeEntryDiagnostic(path: string): Diagnostic {
  const reason = unsafePathReason(path) ?? 'git refuses such a name in a checkout';
  return diagnostic(
    path,
    START_OF_FILE,
    'error',
    'path/unsafe',
    `unsafe path: ${reason}; rename or remove it`,
  );
}

/** A branch no environment follows is almost always a mistake (`--branch mian`): say so. */
function branchNotTracked(repo: ConfigRepo, branch: string): Diagnostic | undefined {
  const environments = [...repo.environments.values()];
  if (environments.some((env) => 'branch' in env.tracks && env.tracks.branch === branch)) return undefined;
  const followed = environments.map((env) =>
    'branch' in env.tracks
      ? `${env.name} follows branch ${env.tracks.branch}`
      : `${env.name} follows tags ${env.tracks.tag}`,
  );
  return diagnostic(
    SETTINGS_FILE,
    START_OF_FILE,
    'error',
    'env/branch-not-tracked',
    `no environment follows branch "${branch}", which this syncer mirrors (${followed.join('; ') || 'no environments'}): ` +
      'run the syncer with --branch set to the branch your environments follow',
  );
}

/** Whether the tags still select, for each environment that follows tags, the commit that was written. */
function sameTracking(tracking: WrittenState['tracking'] | undefined, tags: readonly TagRef[]): boolean {
  if (!tracking) return false;
  for (const { pattern, commit } of tracking.values()) {
    if (newestMatchingTag(pattern, tags)?.commit !== commit) return false;
  }
  return true;
}

function sameRevisions(
  a: Readonly<Record<string, Revision>>,
  b: Readonly<Record<string, Revision>>,
): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((env) => a[env]?.commit === b[env]?.commit && a[env]?.tag === b[env]?.tag);
}
