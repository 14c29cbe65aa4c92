import { type FencedWriter, historySeqOf, ZkError, type ZkLayout } from '../../core/index.js';

const REMOVALS_PER_TRANSACTION = 500;

/** Deletes the oldest history records beyond `retention`; returns how many it deleted. */
export async function trimHistory(
  writer: FencedWriter,
  layout: ZkLayout,
  retention: number,
): Promise<number> {
  const seqs = (await writer.session.childrenIfExists(layout.historyDir()))
    .map(historySeqOf)
    .filter((seq): seq is number => seq !== undefined)
    .sort((a, b) => a - b);
  if (seqs.length <= retention) return 0;
  const oldest = seqs.slice(0, seqs.length - retention);
  for (let i = 0; i < oldest.length; i += REMOVALS_PER_TRANSACTION) {
    const removes = oldest
      .slice(i, i + REMOVALS_PER_TRANSACTION)
      .map((seq) => ({ op: 'remove' as const, path: layout.historyRecord(seq) }));
    try {
      await writer.multi(removes);
    } catch (error) {
      // Removed already (an earlier trim whose answer was lost): gone either way.
      if (!(error instanceof ZkError && error.code === 'NO_NODE')) throw error;
    }
  }
  return oldest.length;
}

/** The sequence numbers of the history records present, newest first. */
export async function historySeqs(writer: FencedWriter, layout: ZkLayout): Promise<number[]> {
  return (await writer.session.childrenIfExists(layout.historyDir()))
    .map(historySeqOf)
    .filter((seq): seq is number => seq !== undefined)
    .sort((a, b) => b - a);
}
