import {
  classifyPath,
  mapWithConcurrency,
  POLICY_FILE,
  type Principal,
  serviceManifestPath,
} from '../../core/index.js';
import { failCheckRun } from '../checks/fail-check-run.js';
import { GitHubError, TreeTruncatedError } from '../errors.js';
import type { CheckRunUpdate, PullRequest } from '../github.js';
import { APPROVALS_CHECK } from '../names.js';
import {
  carryOverUnchangedTree,
  keepsApprovalsOnUnchangedTree,
  staleApprovalCommits,
} from '../policy/carry-over-approvals.js';
import { changedPathsBetween, fileListIsIncomplete, pathsOfChangedFiles } from '../policy/changed-paths.js';
import {
  type ApplicableRule,
  applicableRules,
  evaluatePolicy,
  type PolicyEvaluation,
  teamsIn,
} from '../policy/evaluate.js';
import { readOwners, readPolicy } from '../policy/read-manifests.js';
import { renderApprovalsReport } from '../policy/render-approvals.js';
import { type ReviewTally, type SetAsideReview, tallyReviews } from '../policy/tally-reviews.js';
import type { BotSession } from '../session.js';

/** Everything known about a pull request's approvals at one head commit. */
export interface ApprovalAssessment {
  readonly headSha: string;
  readonly evaluation: PolicyEvaluation;
  readonly setAside: readonly SetAsideReview[];
  /** The policy's `approvals.keepOnUnchangedTree`: approvals of earlier commits with the head's tree count. */
  readonly keepOnUnchangedTree: boolean;
  /** How the evaluation was made, where that is not the usual way. */
  readonly notes: readonly string[];
}

/**
 * The "cairn / approvals" check, re-evaluated on every push, review and dismissal. While approvals are
 * missing the run stays `in_progress`: branch protection only accepts a completed, successful run, so
 * the pull request cannot merge, and nobody mistakes "waiting for people" for a failure. It concludes
 * `success` once every rule is met, and `failure` only when the policy can never be met as written.
 */
export async function runApprovalsCheck(session: BotSession, event: PullRequest): Promise<void> {
  const { github, log } = session;
  // The event may be older than the pull request: judge the head and state GitHub has now.
  const pr = await github.getPullRequest(event.number);
  if (pr.state !== 'open') return;
  const existing = await github.findCheckRun(pr.headSha, APPROVALS_CHECK, APPROVALS_CHECK);
  // The run is updated in place, except that a concluded run is never reopened: going back to
  // "in progress" takes a new run, which GitHub then goes by.
  const publish = async (update: CheckRunUpdate): Promise<number> => {
    if (existing && (!existing.completed || update.conclusion !== undefined)) {
      await github.updateCheckRun(existing.id, update);
      return existing.id;
    }
    return github.createCheckRun({
      name: APPROVALS_CHECK,
      headSha: pr.headSha,
      externalId: APPROVALS_CHECK,
      ...update,
    });
  };

  let assessment: ApprovalAssessment;
  try {
    assessment = await assessApprovals(session, pr);
  } catch (error) {
    const id =
      existing?.id ??
      (await publish({
        status: 'in_progress',
        output: { title: 'Evaluating approvals', summary: 'Reading the policy and the reviews.' },
      }));
    if (error instanceof TreeTruncatedError) {
      // Terminal for this commit: the policy cannot be judged on a tree GitHub will not list whole.
      await failCheckRun(github, id, 'Repository too large to judge', error);
      return;
    }
    await failCheckRun(github, id, 'Cairn could not evaluate the approvals', error);
    throw error;
  }
  const report = renderApprovalsReport({
    evaluation: assessment.evaluation,
    setAside: assessment.setAside,
    headSha: pr.headSha,
    baseRef: pr.baseRef,
    baseSha: pr.baseSha,
    keepOnUnchangedTree: assessment.keepOnUnchangedTree,
    notes: assessment.notes,
  });
  const unmeetable = assessment.evaluation.rules.some((r) => r.requirements.some((q) => q.problem));
  await publish(
    assessment.evaluation.satisfied
      ? { conclusion: 'success', output: report }
      : unmeetable
        ? { conclusion: 'failure', output: report }
        : { status: 'in_progress', output: report },
  );
  log.info(
    { pr: pr.number, headSha: pr.headSha, satisfied: assessment.evaluation.satisfied },
    'evaluated the approvals',
  );
}

/**
 * Gathers what the policy needs and evaluates it: the rules from policy.yaml on the base commit (a pull
 * request must not be able to weaken its own policy), the changed paths, owners of the touched services
 * (from the base; from the head for a service the pull request creates), the reviews of the head commit,
 * and team membership of the approvers.
 */
export async function assessApprovals(session: BotSession, pr: PullRequest): Promise<ApprovalAssessment> {
  const { github, reader } = session;
  const notes: string[] = [];

  const [files, reviews] = await Promise.all([
    github.listPullRequestFiles(pr.number),
    github.listReviews(pr.number),
  ]);
  let changedPaths = pathsOfChangedFiles(files);
  if (fileListIsIncomplete(files.length, pr.changedFiles)) {
    const [base, head] = await Promise.all([reader.listing(pr.baseSha), reader.listing(pr.headSha)]);
    changedPaths = [...new Set([...changedPaths, ...changedPathsBetween(base, head)])].sort();
    notes.push(
      `GitHub lists at most 3,000 of a pull request's files and this one changes ${pr.changedFiles ?? 'more'}: ` +
        `the changed paths were found by comparing the trees of \`${pr.baseSha.slice(0, 7)}\` and \`${pr.headSha.slice(0, 7)}\`.`,
    );
  }

  const services = [
    ...new Set(
      changedPaths.flatMap((path) => {
        const place = classifyPath(path);
        return 'service' in place ? [place.service] : [];
      }),
    ),
  ].sort();
  const manifests = services.map(serviceManifestPath);
  const baseFiles = await reader.files(pr.baseSha, [POLICY_FILE, ...manifests]);
  const newServices = manifests.filter((path) => !baseFiles.has(path));
  const headFiles =
    newServices.length > 0 ? await reader.files(pr.headSha, newServices) : new Map<string, Uint8Array>();
  const owners = new Map<string, readonly Principal[] | undefined>(
    services.map((service) => {
      const path = serviceManifestPath(service);
      return [service, readOwners(path, baseFiles.get(path) ?? headFiles.get(path))];
    }),
  );

  const policy = readPolicy(baseFiles.get(POLICY_FILE));
  const keepOnUnchangedTree = policy.kind === 'valid' && keepsApprovalsOnUnchangedTree(policy.policy);
  let tally = tallyReviews(reviews, pr.headSha, pr.author);
  if (keepOnUnchangedTree) tally = await carryOverApprovals(session, pr, tally);
  let rules: ApplicableRule[];
  if (policy.kind === 'valid') rules = applicableRules(policy.policy, changedPaths, owners);
  else if (policy.kind === 'missing') {
    rules = [];
    notes.push(`There is no \`policy.yaml\` on \`${pr.baseRef}\`: no approvals are required.`);
  } else {
    const { first } = policy;
    rules = [
      {
        rule: 'policy',
        files: [POLICY_FILE],
        requirements: [
          {
            approvals: 1,
            from: [],
            eligible: [],
            problem: `policy.yaml on \`${pr.baseRef}\` does not validate (${first.file}:${first.line}:${first.column} ${first.message}), so no approval can be judged; fix it on \`${pr.baseRef}\` first`,
          },
        ],
      },
    ];
  }

  const teams = teamsIn(rules);
  const teamMembers = new Map<string, Set<string>>();
  if (teams.length > 0 && tally.approvals.length > 0) {
    if (!pr.ownerIsOrganization) {
      notes.push(
        `\`${github.fullName}\` belongs to a user, not an organisation: \`team:\` principals match nobody.`,
      );
    } else {
      const lookups = teams.flatMap((team) =>
        tally.approvals.map((approval) => ({ team, login: approval.login })),
      );
      const answers = await mapWithConcurrency(lookups, 4, ({ team, login }) =>
        github.isActiveTeamMember(github.coordinates.owner, team, login),
      );
      lookups.forEach(({ team, login }, index) => {
        if (!answers[index]) return;
        const members = teamMembers.get(team) ?? new Set<string>();
        members.add(login.toLowerCase());
        teamMembers.set(team, members);
      });
    }
  }

  return {
    headSha: pr.headSha,
    evaluation: evaluatePolicy(rules, tally.approvals, teamMembers),
    setAside: tally.setAside,
    keepOnUnchangedTree,
    notes,
  };
}

/**
 * Approvals of earlier commits that count again because the push since changed no file: the tree of
 * the commit each reviewer approved is compared with the head commit's tree, both read through the Git
 * Data API (commit ids in reviews, never branch names, so a force-push cannot swap what was compared).
 */
async function carryOverApprovals(
  session: BotSession,
  pr: PullRequest,
  tally: ReviewTally,
): Promise<ReviewTally> {
  const { reader, log } = session;
  const commits = staleApprovalCommits(tally);
  if (commits.length === 0) return tally;
  const headTree = await reader.commitTree(pr.headSha);
  const trees = await mapWithConcurrency(commits, 4, async (sha) => {
    try {
      return await reader.commitTree(sha);
    } catch (error) {
      // A commit GitHub no longer has cannot be compared: its approval stays stale, as without the option.
      if (!(error instanceof GitHubError && error.code === 'GITHUB_NOT_FOUND')) throw error;
      log.info({ pr: pr.number, commit: sha }, 'an approved commit is gone; its approval stays stale');
      return undefined;
    }
  });
  const treesOfCommits = new Map<string, string>();
  commits.forEach((sha, index) => {
    const tree = trees[index];
    if (tree !== undefined) treesOfCommits.set(sha, tree);
  });
  return carryOverUnchangedTree(tally, { sha: pr.headSha, tree: headTree }, treesOfCommits);
}
