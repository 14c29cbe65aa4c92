import type { Approvals, HistoryEntry } from '../../core/index.js';
import { escapeControlCharacters } from '../terminal-text.js';

/** The history as a person reads it: per commit, newest first, who approved it and how to undo it. */
export function formatHistory(entries: readonly HistoryEntry[]): string {
  const lines: string[] = [];
  for (const entry of entries) {
    lines.push(
      `#${entry.seq}  ${entry.commit.slice(0, 12)}  ${escapeControlCharacters(entry.subject)}  (${escapeControlCharacters(entry.author.name)}, ${escapeControlCharacters(entry.time)})`,
      `    mirrored  ${entry.syncedAt}${entry.forced ? ', after a force-push' : ''}; ${entry.changedCount} path(s) changed`,
      `    approved  ${approvalLine(entry.approvals)}`,
      `    revert    ${escapeControlCharacters(entry.revert)}`,
      '',
    );
  }
  return `${lines.join('\n')}`;
}

function approvalLine(approvals: Approvals): string {
  switch (approvals.kind) {
    case 'none':
      return 'no approval record (pushed without a pull request, or the bot is not installed)';
    case 'omitted':
      return `the bot's record could not be used: ${escapeControlCharacters(approvals.reason)}`;
    case 'recorded': {
      const who =
        approvals.approvedBy.length > 0
          ? `by ${escapeControlCharacters(approvals.approvedBy.join(', '))}`
          : 'by nobody';
      const merged = approvals.mergedBy ? `, merged by ${escapeControlCharacters(approvals.mergedBy)}` : '';
      const policy = approvals.satisfied ? 'policy met' : 'MERGED WITHOUT THE APPROVALS THE POLICY ASKS FOR';
      return `pull request #${approvals.pr} ${who}${merged}; ${policy}`;
    }
  }
}
