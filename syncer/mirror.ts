import type { Logger } from 'pino';
import {
  type ConfigRepo,
  composeInventory,
  createRepoModelCache,
  type Diagnostic,
  diffInventories,
  inventoryOf,
  isEmptyDiff,
  newestMatchingTag,
  type RepoModelCache,
  type TagRef,
  type ZkInventory,
  type ZkLayout,
  type ZkOp,
  type ZkSession,
} from '../core/index.js';
import { validateRepo } from '../schemas/index.js';
import { CommitRefusedError } from './errors.js';
import type { GitSource, TreeSnapshot } from './git/index.js';
import {
  APPROVALS_NOTES_REF,
  approvalsFromNote,
  decodeHeadRecord,
  type EnvironmentRevision,
  encodeHeadRecord,
  type HeadRecord,
} from './head-record.js';
import { trimHistory } from './zk/history.js';
import { readInventory } from './zk/read-inventory.js';
import { writeCommit } from './zk/write-commit.js';

export type SyncOutcome =
  | {
      readonly kind: 'mirrored';
      readonly commit: string;
      readonly previous?: string;
      readonly forced: boolean;
      readonly transactions: number;
      readonly staged: boolean;
      readonly operations: number;
      /** Where the time went, in milliseconds. */
      readonly timings: SyncTimings;
    }
  | { readonly kind: 'up-to-date'; readonly commit: string }
  | { readonly kind: 'refused'; readonly error: CommitRefusedError };

/** How long after mirroring a commit the syncer still looks for its approval record. */
const LATE_APPROVALS_WINDOW_MS = 10 * 60 * 1000;

export interface SyncTimings {
  readonly fetchMs: number;
  /** Reading the trees (only what changed), parsing and validating them. */
  readonly readAndValidateMs: number;
  /** Building the inventory, diffing it and writing the difference. */
  readonly writeMs: number;
}

export interface MirrorOptions {
  readonly session: ZkSession;
  readonly layout: ZkLayout;
  readonly source: GitSource;
  readonly logger: Logger;
  /** A check added to every write, e.g. the leader's election node. */
  readonly fence?: () => ZkOp | undefined;
  readonly now?: () => Date;
}

interface WrittenState {
  readonly commit: string;
  readonly inventory: ZkInventory;
  /** The tag patterns of the environments that track tags, and what matched each. */
  readonly tracking: ReadonlyMap<string, { readonly pattern: string; readonly commit: string | undefined }>;
}

/** One commit being followed: the branch head, or the tag of an environment that tracks tags. */
interface Lane {
  snapshot?: TreeSnapshot;
  readonly cache: RepoModelCache;
}

interface LoadedCommit {
  readonly repo: ConfigRepo;
  readonly changed: ReadonlySet<string>;
  readonly previousCommit: string | undefined;
}

/**
 * Mirrors the tracked branch into ZooKeeper, one commit at a time, as a reconciler: it reads what
 * ZooKeeper says (`/head`), what git says (the branch head, and the newest matching tag of each
 * environment that tracks tags), and writes the difference.
 *
 * What it remembers between calls only saves work: the last inventory it wrote is trusted only while
 * `/head` still names that commit; otherwise (a restart, a lost connection mid-write, another
 * writer) it reads the actual state from ZooKeeper first. A crash at any point is followed by a
 * correct sync.
 */
export class Mirror {
  private readonly options: MirrorOptions;
  /** Separate caches per lane, so the branch and a tag do not evict each other's work. */
  private readonly lanes = new Map<string, Lane>();
  private written: WrittenState | undefined;
  private refused: { readonly key: string; readonly error: CommitRefusedError } | undefined;

  constructor(options: MirrorOptions) {
    this.options = options;
  }

  /** The commit most recently refused, until a later commit mirrors. */
  get refusedCommit(): CommitRefusedError | undefined {
    return this.refused?.error;
  }

  /** Fetches the branch (and tags) and mirrors its head. */
  async sync(): Promise<SyncOutcome> {
    const started = performance.now();
    const target = await this.options.source.fetchHead();
    return this.syncTo(target, performance.now() - started);
  }

  /** Mirrors `target`, a commit already fetched. */
  async syncTo(target: string, fetchMs = 0): Promise<SyncOutcome> {
    const { session, layout, source, logger } = this.options;
    const head = await this.readHead();
    const tags = await source.listTags();
    // A refused commit is not looked at again until the branch or a tag moves.
    const key = `${target} ${tags.map((t) => `${t.name}=${t.commit}`).join(' ')}`;
    if (this.refused?.key === key) return { kind: 'refused', error: this.refused.error };
    if (
      head.record?.commit === target &&
      this.written?.commit === target &&
      sameTracking(this.written.tracking, tags)
    ) {
      await this.addLateApprovals(head.record, head.version);
      return { kind: 'up-to-date', commit: target };
    }

    const log = logger.child({ commit: target });
    let mark = performance.now();
    const refuse = (commit: string, diagnostics: readonly Diagnostic[]): SyncOutcome => {
      const error = new CommitRefusedError(commit, diagnostics);
      this.refused = { key, error };
      log.error({ err: error, errors: error.diagnostics.slice(0, 20) }, 'commit refused: not mirrored');
      return { kind: 'refused', error };
    };
    const branch = await this.load('branch', target);
    if ('diagnostics' in branch) return refuse(target, branch.diagnostics);

    const environmentsResolved = await this.resolveEnvironments(branch, target, tags);
    if ('refused' in environmentsResolved)
      return refuse(environmentsResolved.refused, environmentsResolved.diagnostics);
    const { tracking, tracked, environments } = environmentsResolved;
    const readAndValidateMs = performance.now() - mark;
    mark = performance.now();

    const to = composeInventory(layout, inventoryOf(branch.repo, layout), tracked);
    const from =
      this.written && this.written.commit === head.record?.commit
        ? this.written.inventory
        : await readInventory(session, layout);
    const sameEnvironments =
      JSON.stringify(head.record?.environments ?? null) === JSON.stringify(environments);
    if (head.record?.commit === target && sameEnvironments && isEmptyDiff(diffInventories(from, to))) {
      this.written = { commit: target, inventory: to, tracking };
      this.refused = undefined;
      return { kind: 'up-to-date', commit: target };
    }

    const info = await source.commitInfo(target);
    const approvals = await this.readApprovals(target);
    const forced = head.record ? !(await source.isAncestor(head.record.commit, target)) : false;
    if (forced)
      log.warn({ previous: head.record?.commit }, 'the branch was force-pushed: mirroring the new head');
    const record: HeadRecord = {
      commit: info.commit,
      tree: info.tree,
      author: info.author,
      message: info.message,
      time: info.time,
      syncedAt: (this.options.now?.() ?? new Date()).toISOString(),
      environments,
      ...(head.record ? { previous: head.record.commit } : {}),
      ...(branch.previousCommit !== undefined && branch.previousCommit === head.record?.commit
        ? { changed: [...branch.changed].sort() }
        : {}),
      ...(forced ? { forced } : {}),
      ...(approvals !== undefined ? { approvals } : {}),
    };
    const history = Buffer.from(
      JSON.stringify({
        commit: record.commit,
        previous: record.previous,
        author: record.author,
        message: record.message.split('\n', 1)[0],
        time: record.time,
        syncedAt: record.syncedAt,
        environments,
        forced,
      }),
    );

    // Until the write is known to have landed, ZooKeeper's state is uncertain: forget what we wrote.
    this.written = undefined;
    const fence = this.options.fence?.();
    const result = await writeCommit(session, layout, {
      from,
      to,
      head: encodeHeadRecord(record),
      headVersion: head.version,
      historyRecord: history,
      ...(fence ? { fence } : {}),
    });
    this.written = { commit: target, inventory: to, tracking };
    this.refused = undefined;
    const timings: SyncTimings = { fetchMs, readAndValidateMs, writeMs: performance.now() - mark };
    log.info(
      {
        previous: record.previous,
        environments,
        creates: result.diff.creates.length,
        updates: result.diff.updates.length,
        removes: result.diff.removes.length,
        transactions: result.transactions,
        staged: result.staged,
        timings,
      },
      'commit mirrored',
    );
    await trimHistory(session, layout, branch.repo.limits.historyRetention, fence).catch((error: unknown) => {
      // History is a convenience; a failed trim is retried after the next commit.
      log.warn({ err: error }, 'could not trim /history');
    });
    return {
      kind: 'mirrored',
      commit: target,
      ...(record.previous ? { previous: record.previous } : {}),
      forced,
      transactions: result.transactions,
      staged: result.staged,
      operations: result.operations,
      timings,
    };
  }

  /**
   * What each environment serves: the branch head, or for one that tracks tags the newest matching
   * tag (none while no tag matches), read and validated in a lane of its own.
   */
  private async resolveEnvironments(
    branch: LoadedCommit,
    target: string,
    tags: readonly TagRef[],
  ): Promise<
    | {
        tracking: Map<string, { pattern: string; commit: string | undefined }>;
        tracked: Map<string, ZkInventory | undefined>;
        environments: Record<string, EnvironmentRevision>;
      }
    | { refused: string; diagnostics: readonly Diagnostic[] }
  > {
    const { layout, source } = this.options;
    const tracking = new Map<string, { pattern: string; commit: string | undefined }>();
    const tracked = new Map<string, ZkInventory | undefined>();
    const environments: Record<string, EnvironmentRevision> = {};
    for (const env of branch.repo.environments.values()) {
      if (!('tag' in env.tracks)) {
        environments[env.name] = { commit: target };
        continue;
      }
      const tag = newestMatchingTag(env.tracks.tag, tags);
      tracking.set(env.name, { pattern: env.tracks.tag, commit: tag?.commit });
      if (!tag) {
        tracked.set(env.name, undefined);
        continue;
      }
      const tagged = tag.commit === target ? branch : await this.load(`tag:${env.name}`, tag.commit);
      if ('diagnostics' in tagged) return { refused: tag.commit, diagnostics: tagged.diagnostics };
      tracked.set(env.name, inventoryOf(tagged.repo, layout));
      const released = await source.commitInfo(tag.commit);
      environments[env.name] = {
        commit: tag.commit,
        tag: tag.name,
        author: released.author,
        message: released.message,
        time: released.time,
      };
    }
    return { tracking, tracked, environments };
  }

  /** Reads and validates a commit in a lane: only what changed since the lane's last commit. */
  private async load(
    laneName: string,
    commit: string,
  ): Promise<LoadedCommit | { diagnostics: readonly Diagnostic[] }> {
    let lane = this.lanes.get(laneName);
    if (!lane) {
      lane = { cache: createRepoModelCache() };
      this.lanes.set(laneName, lane);
    }
    const previousCommit = lane.snapshot?.commit;
    const update = await this.options.source.readTree(commit, lane.snapshot);
    lane.snapshot = update.snapshot;
    const { diagnostics, repo } = validateRepo(update.snapshot.tree, { cache: lane.cache });
    if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
    return { repo, changed: update.changed, previousCommit };
  }

  /** The approval record of a commit, if the bot attached one; a failure to read it only loses it. */
  private async readApprovals(commit: string): Promise<unknown> {
    try {
      const note = await this.options.source.readNote(APPROVALS_NOTES_REF, commit);
      return note === undefined ? undefined : approvalsFromNote(note);
    } catch (error) {
      this.options.logger.warn({ err: error, commit }, 'could not read the approval record note');
      return undefined;
    }
  }

  /**
   * The bot writes a merge's approval record when GitHub reports the merge, which may be after the
   * syncer mirrored it: for a while after mirroring, look for the note and add it to `/head`.
   */
  private async addLateApprovals(record: HeadRecord, version: number | undefined): Promise<void> {
    if (record.approvals !== undefined || version === undefined) return;
    const now = this.options.now?.() ?? new Date();
    if (now.getTime() - Date.parse(record.syncedAt) > LATE_APPROVALS_WINDOW_MS) return;
    const approvals = await this.readApprovals(record.commit);
    if (approvals === undefined) return;
    const fence = this.options.fence?.();
    const update: ZkOp = {
      op: 'set',
      path: this.options.layout.head(),
      data: encodeHeadRecord({ ...record, approvals }),
      version,
    };
    await this.options.session.multi(fence ? [fence, update] : [update]);
    this.options.logger.info({ commit: record.commit }, 'approval record added to /head');
  }

  /** `/head` as it is: its record (if it holds a valid one) and its version (if it exists). */
  private async readHead(): Promise<{ record?: HeadRecord; version?: number }> {
    const path = this.options.layout.head();
    const head = await this.options.session.getIfExists(path);
    if (!head) return {};
    try {
      return { record: decodeHeadRecord(path, head.data), version: head.stat.version };
    } catch (error) {
      this.options.logger.warn({ err: error }, 'ignoring an unreadable /head: it is rewritten by this sync');
      return { version: head.stat.version };
    }
  }
}

/** Whether the tags still select, for each tracked environment, the commit that was written. */
function sameTracking(tracking: WrittenState['tracking'], tags: readonly TagRef[]): boolean {
  for (const { pattern, commit } of tracking.values()) {
    if (newestMatchingTag(pattern, tags)?.commit !== commit) return false;
  }
  return true;
}
