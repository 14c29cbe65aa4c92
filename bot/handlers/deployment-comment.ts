import {
  CorruptRecordError,
  controlRefusal,
  type DeploymentRecord,
  decodeDeploymentControlRecord,
  decodeServiceRecord,
  encodeDeploymentControlRecord,
  isTerminalDeployment,
  newestDeployments,
  steeringRefusal,
  type ZkSession,
} from '../../core/index.js';
import { COMMENT_ACTIONS, type CommentAction, parseCairnCommand } from '../deployments/cairn-command.js';
import type { BotZooKeeper } from '../deployments/start-deployments.js';
import { codeSpan, escapeMarkdown } from '../markdown.js';
import type { BotSession } from '../session.js';

/** The parts of an `issue_comment` event the steering reads. */
export interface CommentEvent {
  readonly comment: {
    readonly id: number;
    readonly body: string;
    readonly html_url: string;
    readonly user: { readonly login: string; readonly type?: string } | null;
  };
  readonly issue: { readonly number: number; readonly pull_request?: unknown };
}

/** Marks the bot's answer to a comment, so a redelivered comment is answered (and acted on) once. */
export function answerMarker(commentId: number): string {
  return `<!-- cairn:answer ${commentId} -->`;
}

/**
 * `/cairn pause|resume|abort [reason]` on the pull request that set the live release of an
 * environment: for every deployment of its merge commit still in progress, the commenter is checked
 * against policy.yaml's deployments rules and the action recorded as a control record (who, when,
 * why, and the comment it came from) for the controller to apply, which checks the policy again.
 * Every command gets a short answer saying what was recorded or why nothing was. A comment is acted
 * on once, however often GitHub delivers it: the answer carries its id, and so does the record.
 */
export async function steerFromComment(
  session: BotSession,
  zookeeper: BotZooKeeper | undefined,
  event: CommentEvent,
): Promise<'ignored' | undefined> {
  const { comment, issue } = event;
  const login = comment.user?.login;
  // Only a person's command on a pull request; bots (this one included) are not listened to.
  if (!issue.pull_request || !login || comment.user?.type === 'Bot') return 'ignored';
  const command = parseCairnCommand(comment.body);
  if (!command) return 'ignored';
  return session.exclusive(`steer#${issue.number}`, async () => {
    const { github, log } = session;
    const marker = answerMarker(comment.id);
    // Only the bot's own answer counts: anyone could quote the marker.
    const bot = await session.botLogin();
    const answered = (await github.listIssueComments(issue.number)).some(
      (c) => c.author === bot && c.body.includes(marker),
    );
    if (answered) return 'ignored';
    const answer = async (lines: readonly string[], recorded: boolean) => {
      const text =
        lines.length === 1 && !lines[0]?.startsWith('- ') ? ` ${lines[0]}` : `\n${lines.join('\n')}`;
      await github.createIssueComment(issue.number, `${marker}\n@${login}:${text}`);
      if (recorded) await github.reactToIssueComment(comment.id, '+1');
    };
    if (command.kind === 'unknown') {
      await answer(
        [
          `${codeSpan(`/cairn ${command.word}`.trim())} is no command I know: comment ${COMMENT_ACTIONS.map((a) => codeSpan(`/cairn ${a}`)).join(', ')}, with a reason after it if you like (skip and retry name hosts: use ${codeSpan('cairn deploy')}).`,
        ],
        false,
      );
      return undefined;
    }
    if (!zookeeper) {
      await answer(
        [
          `this bot does not follow deployments (it has no ${codeSpan('CAIRN_ZK')}): nothing recorded; use ${codeSpan(`cairn deploy ${command.action}`)}.`,
        ],
        false,
      );
      return undefined;
    }
    const pr = await github.getPullRequest(issue.number);
    if (!pr.merged || !pr.mergeCommitSha) {
      await answer(
        [
          `nothing to ${command.action}: #${pr.number} is not merged, and a deployment starts only once a release manifest is merged.`,
        ],
        false,
      );
      return undefined;
    }
    const zk = zookeeper.keeper.session;
    if (!zk) {
      await answer(
        [
          `ZooKeeper is out of reach: nothing recorded. Comment again in a moment, or use ${codeSpan(`cairn deploy ${command.action}`)}.`,
        ],
        false,
      );
      return undefined;
    }
    const running = (await newestDeployments(zk, zookeeper.layout)).filter(
      (d) => d.release.commit === pr.mergeCommitSha && !isTerminalDeployment(d.state),
    );
    if (running.length === 0) {
      await answer(
        [
          `nothing to ${command.action}: no deployment of ${codeSpan(pr.mergeCommitSha.slice(0, 7))}, the commit #${pr.number} merged, is in progress.`,
        ],
        false,
      );
      return undefined;
    }
    const lines: string[] = [];
    let recorded = 0;
    for (const deployment of running) {
      const outcome = await record(zk, zookeeper, deployment, command.action, login, comment, command.reason);
      const name = `${escapeMarkdown(deployment.service)}/${escapeMarkdown(deployment.env)} ${deployment.id}`;
      if (outcome.recorded) recorded++;
      lines.push(
        outcome.recorded
          ? `- ${name}: **${command.action}** recorded; the controller applies it next.`
          : `- ${name}: nothing recorded, ${escapeMarkdown(outcome.why)}.`,
      );
      log.info(
        {
          pr: pr.number,
          service: deployment.service,
          env: deployment.env,
          deployment: deployment.id,
          action: command.action,
          by: login,
          recorded: outcome.recorded,
          ...(outcome.recorded ? {} : { why: outcome.why }),
        },
        outcome.recorded
          ? 'recorded a control action from a comment'
          : 'refused a control action from a comment',
      );
    }
    await answer(lines, recorded === running.length);
    return undefined;
  });
}

type Outcome = { readonly recorded: true } | { readonly recorded: false; readonly why: string };

/** Records one deployment's control action, unless the policy, its state or an earlier delivery says no. */
async function record(
  zk: ZkSession,
  { layout }: BotZooKeeper,
  deployment: DeploymentRecord,
  action: CommentAction,
  login: string,
  comment: CommentEvent['comment'],
  reason: string | undefined,
): Promise<Outcome> {
  const { service, env, id } = deployment;
  const servicePath = layout.service(service);
  const serviceNode = await zk.getIfExists(servicePath);
  const grants = serviceNode ? decodeServiceRecord(serviceNode.data, servicePath).steering : undefined;
  const refusal = steeringRefusal(grants, env, action, login);
  if (refusal) return { recorded: false, why: refusal.message };
  const stateRefusal = controlRefusal(action, deployment.state);
  if (stateRefusal) return { recorded: false, why: `it is ${deployment.state}: ${stateRefusal}` };
  // A delivery that recorded the action and failed before it answered: recorded once.
  for (const name of await zk.childrenIfExists(layout.deploymentControls(service, env, id))) {
    const path = layout.deploymentControl(service, env, id, name);
    const node = await zk.getIfExists(path);
    if (node && sourceOf(node.data, path) === comment.id) return { recorded: true };
  }
  await zk.create(
    layout.deploymentControlPrefix(service, env, id),
    encodeDeploymentControlRecord({
      action,
      by: login,
      at: new Date().toISOString(),
      ...(reason ? { reason } : {}),
      source: { kind: 'github-comment', commentId: comment.id, url: comment.html_url },
    }),
    'persistent-sequential',
  );
  return { recorded: true };
}

/** The comment a control record came from; a damaged record (the controller reports it) came from none. */
function sourceOf(data: Uint8Array, path: string): number | undefined {
  try {
    return decodeDeploymentControlRecord(data, path).source?.commentId;
  } catch (error) {
    if (error instanceof CorruptRecordError) return undefined;
    throw error;
  }
}
