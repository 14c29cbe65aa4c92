import { decodeHistoryRecord, type HistoryRecord } from '../records/index.js';
import { historySeqOf, type ZkLayout } from '../zk-layout.js';
import type { ZkSession } from '../zookeeper/index.js';

/** One mirrored commit as `cairn history` tells it. */
export interface HistoryEntry {
  readonly seq: number;
  readonly commit: string;
  readonly author: { readonly name: string; readonly email: string };
  /** The commit message's first line. */
  readonly subject: string;
  readonly time: string;
  readonly syncedAt: string;
  readonly forced: boolean;
  readonly changedCount: number;
  /** What each environment served after it: a commit, and the tag for one that follows tags. */
  readonly environments: Readonly<Record<string, { readonly commit: string; readonly tag?: string }>>;
  readonly approvals: Approvals;
  /** The command that undoes it, as a pull request like any other change. */
  readonly revert: string;
}

/** Who approved a commit, by the bot's approval record. */
export type Approvals =
  | {
      readonly kind: 'recorded';
      readonly pr: number;
      readonly satisfied: boolean;
      readonly mergedBy: string | null;
      readonly approvedBy: readonly string[];
    }
  /** The bot's note was there and could not be used; why. */
  | { readonly kind: 'omitted'; readonly reason: string }
  /** No approval record: a push without a pull request, or the bot is not installed. */
  | { readonly kind: 'none' };

/** The newest `limit` mirrored commits, newest first. */
export async function readHistory(
  session: ZkSession,
  layout: ZkLayout,
  limit: number,
): Promise<HistoryEntry[]> {
  const seqs = (await session.childrenIfExists(layout.historyDir()))
    .map(historySeqOf)
    .filter((seq): seq is number => seq !== undefined)
    .sort((a, b) => b - a)
    .slice(0, limit);
  const entries: HistoryEntry[] = [];
  for (const seq of seqs) {
    const path = layout.historyRecord(seq);
    const node = await session.getIfExists(path);
    // Trimmed meanwhile: the history is bounded.
    if (node) entries.push(historyEntryOf(decodeHistoryRecord(node.data, path)));
  }
  return entries;
}

export function historyEntryOf(record: HistoryRecord): HistoryEntry {
  return {
    seq: record.seq,
    commit: record.commit,
    author: record.author,
    subject: record.message.split('\n', 1)[0] ?? '',
    time: record.time,
    syncedAt: record.syncedAt,
    forced: record.forced ?? false,
    changedCount: record.changedCount,
    environments: Object.fromEntries(
      Object.entries(record.environments).map(([env, r]) => [
        env,
        { commit: r.commit, ...(r.tag ? { tag: r.tag } : {}) },
      ]),
    ),
    approvals: approvalsOf(record),
    revert: `git revert --no-edit ${record.commit}`,
  };
}

function approvalsOf(record: HistoryRecord): Approvals {
  const approvals = record.approvals;
  if (!approvals) return { kind: 'none' };
  if ('omitted' in approvals) return { kind: 'omitted', reason: approvals.omitted };
  const approvedBy = [...new Set(approvals.rules.flatMap((rule) => rule.satisfiedBy.map((a) => a.login)))];
  return {
    kind: 'recorded',
    pr: approvals.pr,
    satisfied: approvals.satisfied,
    mergedBy: approvals.mergedBy,
    approvedBy,
  };
}
