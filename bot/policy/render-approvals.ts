import { CHECK_OUTPUT_LIMIT, truncateText } from '../text-limit.js';
import type { PolicyEvaluation, RequirementOutcome } from './evaluate.js';
import type { Approval, SetAsideReview } from './tally-reviews.js';

export interface ApprovalsReportInput {
  readonly evaluation: PolicyEvaluation;
  readonly setAside: readonly SetAsideReview[];
  readonly headSha: string;
  readonly baseRef: string;
  readonly baseSha: string;
  /** policy.yaml's `approvals.keepOnUnchangedTree`: approvals of earlier commits with the head's tree count. */
  readonly keepOnUnchangedTree: boolean;
  /** Notes on how the evaluation was made (e.g. the changed files came from a tree comparison). */
  readonly notes?: readonly string[];
}

export interface ApprovalsReport {
  readonly title: string;
  readonly summary: string;
}

/** The approvals check's words: each applicable rule, who is required and who approved which commit. */
export function renderApprovalsReport(input: ApprovalsReportInput): ApprovalsReport {
  const { evaluation } = input;
  const short = input.headSha.slice(0, 7);
  const total = evaluation.rules.length;
  const met = evaluation.rules.filter((r) => r.satisfied).length;
  const blocked = evaluation.rules.some((r) => r.requirements.some((q) => q.problem));
  const title =
    total === 0
      ? 'No approvals required'
      : evaluation.satisfied
        ? `Approved: ${total === 1 ? 'the rule' : `all ${total} rules`} satisfied`
        : blocked
          ? 'Approvals can never be met: policy.yaml needs fixing'
          : `Waiting for approvals: ${met} of ${total} rules satisfied`;

  const carried = carriedOver(evaluation);
  const lines: string[] = [];
  lines.push(
    total === 0
      ? `No rule of \`policy.yaml\` matches a file this pull request changes: it needs no approval from Cairn.`
      : evaluation.satisfied
        ? `**Every rule is satisfied** by approvals of the head commit \`${short}\`${carried.length > 0 ? ' or of earlier commits with the very same files' : ''}.`
        : input.keepOnUnchangedTree
          ? `**${met} of ${total} rules satisfied.** Approvals count for the head commit \`${short}\`, or for an earlier commit with the very same files; a push that changes a file asks for them again.`
          : `**${met} of ${total} rules satisfied.** Approvals count only for the head commit \`${short}\`; a push asks for them again.`,
  );
  lines.push(
    '',
    `Rules come from \`policy.yaml\` on \`${input.baseRef}\` at \`${input.baseSha.slice(0, 7)}\`: a pull request cannot change the policy it is judged by.`,
  );
  for (const note of input.notes ?? []) lines.push('', note);
  if (total > 0) {
    lines.push('', '| rule | requires | approved by | |', '| --- | --- | --- | --- |');
    for (const rule of evaluation.rules) {
      rule.requirements.forEach((requirement, index) => {
        lines.push(
          `| ${index === 0 ? `**${rule.rule}**` : ''} | ${describeRequirement(requirement)} | ${approvers(requirement)} | ${status(requirement)} |`,
        );
      });
    }
    for (const rule of evaluation.rules) {
      const problems = rule.requirements.flatMap((r) => (r.problem ? [r.problem] : []));
      for (const problem of problems) lines.push('', `⚠️ Rule **${rule.rule}**: ${problem}.`);
    }
    lines.push('', '<details><summary>Changed files each rule matched</summary>', '');
    for (const rule of evaluation.rules) {
      lines.push(
        `- **${rule.rule}**: ${rule.files
          .slice(0, 20)
          .map((f) => `\`${f}\``)
          .join(', ')}${rule.files.length > 20 ? ` and ${rule.files.length - 20} more` : ''}`,
      );
    }
    lines.push('', '</details>');
  }
  if (carried.length > 0) {
    lines.push(
      '',
      'Approvals carried over pushes that changed no file (`approvals.keepOnUnchangedTree` in `policy.yaml`):',
      '',
    );
    for (const approval of carried) {
      lines.push(
        `- @${approval.login} approved \`${approval.approvedSha.slice(0, 7)}\` at ${approval.submittedAt}; its tree \`${(approval.unchangedTree ?? '').slice(0, 7)}\` is the head's tree, so exactly the files they approved would merge.`,
      );
    }
  }
  if (input.setAside.length > 0) {
    lines.push('', 'Reviews that do not count:', '');
    for (const review of input.setAside) lines.push(`- ${describeSetAside(review, input.headSha)}`);
  }
  return {
    title,
    summary: truncateText(
      lines.join('\n'),
      CHECK_OUTPUT_LIMIT,
      '… cut here: the pull request touches too many rules to list.',
    ),
  };
}

function describeRequirement(requirement: RequirementOutcome): string {
  const who = requirement.from
    .map((p) => (p === 'owners' ? `owners of ${requirement.service ?? '(no service)'}` : `\`${p}\``))
    .join(' or ');
  const owners =
    requirement.from.includes('owners') && requirement.eligible.length > 0
      ? ` (${requirement.eligible.map((p) => `\`${p}\``).join(', ')})`
      : '';
  return `${requirement.approvals} from ${who}${owners}`;
}

function approvers(requirement: RequirementOutcome): string {
  if (requirement.approvedBy.length === 0) return '—';
  return requirement.approvedBy
    .map(
      (a) =>
        `@${a.login} on \`${a.approvedSha.slice(0, 7)}\`${a.unchangedTree ? ' (same files as the head)' : ''} at ${a.submittedAt}`,
    )
    .join('<br>');
}

/** Approvals of earlier commits that counted for some requirement, once per person. */
function carriedOver(evaluation: PolicyEvaluation): Approval[] {
  const byLogin = new Map<string, Approval>();
  for (const rule of evaluation.rules) {
    for (const requirement of rule.requirements) {
      for (const approval of requirement.approvedBy) {
        if (approval.unchangedTree) byLogin.set(approval.login.toLowerCase(), approval);
      }
    }
  }
  return [...byLogin.values()];
}

function status(requirement: RequirementOutcome): string {
  if (requirement.problem) return '⚠️ cannot be met';
  if (requirement.satisfied) return '✅';
  const missing = requirement.approvals - requirement.approvedBy.length;
  return `⏳ ${missing} more`;
}

function describeSetAside(review: SetAsideReview, headSha: string): string {
  switch (review.reason) {
    case 'stale':
      return review.filesChanged
        ? `@${review.login} approved \`${(review.commitId ?? '?').slice(0, 7)}\`, and files changed since (the head \`${headSha.slice(0, 7)}\` has another tree): a new review of the head is needed.`
        : `@${review.login} approved \`${(review.commitId ?? '?').slice(0, 7)}\`, not the head \`${headSha.slice(0, 7)}\`: a new review of the head is needed.`;
    case 'author':
      return `@${review.login} is the author: nobody approves their own change.`;
    case 'dismissed':
      return `@${review.login}'s review was dismissed.`;
    case 'changes-requested':
      return `@${review.login} requested changes.`;
  }
}
