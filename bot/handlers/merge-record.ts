import { CorruptRecordError, decodeApprovalRecord } from '../../core/index.js';
import type { PullRequest } from '../github.js';
import { APPROVAL_RECORD_CHECK } from '../names.js';
import {
  type ApprovalRecord,
  buildApprovalRecord,
  renderApprovalRecord,
  serializeApprovalRecord,
} from '../record/approval-record.js';
import { writeGitNote } from '../record/write-git-note.js';
import type { BotSession } from '../session.js';
import { CHECK_OUTPUT_LIMIT, truncateText } from '../text-limit.js';
import { assessApprovals } from './approvals.js';

/**
 * On merge, records who approved what: the approvals of the merged head, judged by the same policy as
 * the check, written as a git note on the merge commit and shown in a check run on that commit.
 */
export async function recordMergeApprovals(session: BotSession, pr: PullRequest): Promise<void> {
  const { github, settings, log } = session;
  if (!pr.merged || !pr.mergeCommitSha) return;
  const mergeCommit = pr.mergeCommitSha;
  const assessment = await assessApprovals(session, pr);
  const record = buildApprovalRecord({
    repository: github.fullName,
    pr,
    mergeCommit,
    evaluation: assessment.evaluation,
    recordedAt: new Date().toISOString(),
  });
  const note = await writeGitNote(github, {
    ref: settings.notesRef,
    target: mergeCommit,
    content: serializeApprovalRecord(record),
    message: `Approvals of #${pr.number}, merged as ${mergeCommit.slice(0, 7)}`,
  });
  const shown = note.written ? record : (parseRecord(note.content) ?? record);
  await github.createCheckRun({
    name: APPROVAL_RECORD_CHECK,
    headSha: mergeCommit,
    externalId: APPROVAL_RECORD_CHECK,
    conclusion: shown.satisfied ? 'success' : 'failure',
    output: {
      title: shown.satisfied
        ? `Approved as policy.yaml requires (#${pr.number})`
        : `Merged without the required approvals (#${pr.number})`,
      summary: truncateText(
        renderApprovalRecord(shown, settings.notesRef),
        CHECK_OUTPUT_LIMIT,
        '… cut here.',
      ),
      text: truncateText(
        `\`\`\`json\n${note.content}\`\`\``,
        CHECK_OUTPUT_LIMIT,
        '… the whole record is in the git note.',
      ),
    },
  });
  log.info(
    {
      pr: pr.number,
      mergeCommit,
      satisfied: shown.satisfied,
      written: note.written,
      notesCommit: note.notesCommit,
    },
    'recorded the approvals of a merged pull request',
  );
}

function parseRecord(content: string): ApprovalRecord | undefined {
  try {
    return decodeApprovalRecord(content);
  } catch (error) {
    // A note written by someone else: show our record, the note's text is in the check's details.
    if (error instanceof CorruptRecordError) return undefined;
    throw error;
  }
}
