import {
  contentId,
  decodeText,
  type Environment,
  type FileChange,
  templateTarget,
} from '../../core/index.js';
import { plural } from '../checks/validation-report.js';
import { codeSpan, escapeMarkdown } from '../markdown.js';
import { PLAN_MARKER } from '../names.js';
import { COMMENT_BODY_LIMIT } from '../text-limit.js';
import type { DeploymentPlan, EnvironmentChanges, Plan } from './build-plan.js';
import { unifiedDiff } from './unified-diff.js';

export interface PlanCommentInput {
  readonly headSha: string;
  readonly baseSha: string;
  readonly baseRef: string;
  /** Errors at the head: the syncer refuses such a commit, so nothing would change. */
  readonly headErrors: number;
  /** Errors at the base: ZooKeeper then holds an older commit than the base. */
  readonly baseErrors: number;
  readonly plan?: Plan;
  readonly fork?: string | undefined;
}

/** Lines of diff shown per file; the whole change is one click away in "Files changed". */
const DIFF_LINES = 20;
/** Batches listed per deployment before the rest are summed up. */
const LISTED_BATCHES = 10;

/**
 * The sticky plan comment, like a terraform plan: per service and environment the effective files
 * added, changed and removed, each with a short diff, then the deployments that will start and on
 * which hosts. Always under GitHub's comment limit: diffs are dropped first, then whole files.
 */
export function renderPlanComment(input: PlanCommentInput, limit = COMMENT_BODY_LIMIT): string {
  const short = input.headSha.slice(0, 7);
  const head: string[] = [PLAN_MARKER, '### Cairn plan', ''];
  if (input.fork) {
    head.push(`From the fork \`${input.fork}\`: its files were read as data, nothing from it was run.`, '');
  }
  if (input.headErrors > 0 || !input.plan) {
    head.push(
      `**No plan for \`${short}\`**: it has ${plural(input.headErrors, 'error')} (see the **cairn / validate** check). ` +
        'The syncer refuses a commit that does not validate, so merging it would change nothing in ZooKeeper. Fix the errors to see the plan.',
    );
    return head.join('\n');
  }
  const { plan } = input;
  const counts = countChanges(plan);
  if (
    counts.files === 0 &&
    plan.deployments.length === 0 &&
    plan.znodes.creates + plan.znodes.updates + plan.znodes.removes === 0
  ) {
    head.push(`**No changes.** Merging \`${short}\` into \`${input.baseRef}\` changes nothing in ZooKeeper.`);
    return head.join('\n');
  }
  head.push(
    `Merging \`${short}\` into \`${input.baseRef}\` changes ZooKeeper as follows (compared with \`${input.baseSha.slice(0, 7)}\`).`,
    '',
    `**Plan:** ${counts.added} to add, ${counts.changed} to change, ${counts.removed} to remove (effective files) · ` +
      `${plural(plan.deployments.filter((d) => d.change.kind === 'changed').length, 'deployment')} to start · ` +
      `znodes: ${plan.znodes.creates} created, ${plan.znodes.updates} updated, ${plan.znodes.removes} deleted`,
  );
  if (plan.refusals.length > 0) {
    head.push(
      '',
      '⛔ **The syncer would refuse this merge** as destructive: nothing of it would reach ZooKeeper, the current state staying live.',
      '',
      ...plan.refusals.map(
        (d) => `- ${codeSpan(`${d.file}:${d.line}`)} ${escapeMarkdown(d.message)} (${codeSpan(d.rule)})`,
      ),
    );
  }
  if (input.baseErrors > 0) {
    head.push(
      '',
      `⚠️ \`${input.baseRef}\` at \`${input.baseSha.slice(0, 7)}\` does not validate, so ZooKeeper holds an older commit; this plan compares with what is valid at \`${input.baseSha.slice(0, 7)}\`.`,
    );
  }
  if (plan.servicesAdded.length > 0)
    head.push('', `New services: ${plan.servicesAdded.map((s) => `\`${s}\``).join(', ')}.`);
  if (plan.servicesRemoved.length > 0) {
    head.push('', `Removed services: ${plan.servicesRemoved.map((s) => `\`${s}\``).join(', ')}.`);
  }

  const deployments =
    plan.deployments.length > 0
      ? ['', '#### Deployments', '', ...plan.deployments.flatMap(renderDeployment)]
      : [];
  const footer = [
    '',
    '---',
    `_Updated for \`${short}\`. The syncer applies exactly this difference when the commit reaches ZooKeeper._`,
  ];

  let body = [...head, ...deployments].join('\n');
  const reserve = footer.join('\n').length + 200;
  let omitted = 0;
  // A base file changes alike in every environment without an overlay of it: show that diff once.
  const shown = new Map<string, string>();
  for (const [index, environment] of plan.environments.entries()) {
    const full = renderEnvironment(environment, true, shown);
    const brief = renderEnvironment(environment, false, shown);
    if (body.length + full.text.length + reserve <= limit) {
      body += full.text;
      for (const key of full.diffsShown) shown.set(key, environment.env);
    } else if (body.length + brief.text.length + reserve <= limit) body += brief.text;
    else {
      omitted = plan.environments.slice(index).reduce((sum, e) => sum + e.files.length, 0);
      break;
    }
  }
  if (omitted > 0) {
    body += `\n\n… and ${plural(omitted, 'more file change')}: too many for one comment. "Files changed" lists them all.`;
  }
  return `${body}${footer.join('\n')}`.slice(0, limit);
}

function countChanges(plan: Plan) {
  let added = 0;
  let changed = 0;
  let removed = 0;
  for (const environment of plan.environments) {
    for (const file of environment.files) {
      if (file.kind === 'added') added++;
      else if (file.kind === 'changed') changed++;
      else removed++;
    }
  }
  return { added, changed, removed, files: added + changed + removed };
}

/** One environment's changes; a change whose diff `shown` already holds names that environment instead. */
function renderEnvironment(
  environment: EnvironmentChanges,
  withDiffs: boolean,
  shown: ReadonlyMap<string, string>,
): { text: string; diffsShown: string[] } {
  const lines = [
    '',
    `#### \`${environment.service}\` · \`${environment.env}\` — ${goesLive(environment.tracks)}`,
    '',
  ];
  const diffsShown: string[] = [];
  for (const file of environment.files) {
    const key = changeKey(file);
    const sameAs = shown.get(key);
    lines.push(...renderFile(file, withDiffs && sameAs === undefined, sameAs));
    if (withDiffs && sameAs === undefined) diffsShown.push(key);
  }
  return { text: lines.join('\n'), diffsShown };
}

function changeKey(change: FileChange): string {
  const id = (bytes: Uint8Array | undefined) => (bytes ? contentId(bytes) : '');
  return [change.service, change.path, change.kind, id(change.before?.bytes), id(change.after?.bytes)].join(
    '\u0000',
  );
}

function renderFile(change: FileChange, withDiffs: boolean, sameAs?: string): string[] {
  const sign = change.kind === 'added' ? '+' : change.kind === 'changed' ? '~' : '-';
  const before = change.before ? decodeText(change.before.bytes) : undefined;
  const after = change.after ? decodeText(change.after.bytes) : undefined;
  const binary = (change.before && before === undefined) || (change.after && after === undefined);
  const size = (bytes: Uint8Array | undefined) =>
    bytes ? `${bytes.length.toLocaleString('en-US')} bytes` : '';
  let detail: string;
  if (binary) {
    detail =
      change.kind === 'changed'
        ? `binary, ${size(change.before?.bytes)} → ${size(change.after?.bytes)}`
        : `binary, ${size((change.after ?? change.before)?.bytes)}`;
  } else if (change.kind === 'removed') detail = `removed (was ${size(change.before?.bytes)})`;
  else detail = change.kind === 'added' ? `added, ${size(change.after?.bytes)}` : 'changed';
  const sources = (change.after ?? change.before)?.sources ?? [];
  // A rendered file changes with its template and with the services it renders from.
  const rendered = sources.some((source) => templateTarget(source) !== undefined);
  const from =
    sources.length > 1 || rendered
      ? ` — ${rendered ? 'rendered from the service tree by' : 'from'} ${sources.map((s) => `\`${s}\``).join(' over ')}`
      : '';
  const same = sameAs ? ` — the same change as in \`${sameAs}\`` : '';
  const lines = [`**${sign} \`${change.path}\`** ${detail}${from}${same}`];
  if (withDiffs && !binary && change.kind !== 'removed') {
    const diff = unifiedDiff(before ?? '', after ?? '', { maxLines: DIFF_LINES });
    if (diff.lines.length > 0) {
      lines.push('```diff', ...diff.lines.map(escapeFence), '```');
      if (diff.omitted > 0) lines.push(`_… ${plural(diff.omitted, 'more diff line')}_`);
    }
  }
  lines.push('');
  return lines;
}

function renderDeployment(deployment: DeploymentPlan): string[] {
  const { change } = deployment;
  const name = `**\`${deployment.service}\` · \`${deployment.env}\`**`;
  if (change.kind === 'removed') {
    return [
      `${name}: release manifest removed (was \`${change.before?.manifest.version}\`). No deployment starts; the hosts keep the version they run.`,
      '',
    ];
  }
  const manifest = change.after?.manifest;
  if (!manifest || !deployment.rollout) return [];
  if (change.kind === 'added') {
    // The controller records an environment's first release as what its hosts already run.
    return [
      `${name}: first release \`${manifest.version}\` on ${plural(deployment.hostCount, 'host')}: recorded as the version the hosts run, nothing is deployed; the next change of the manifest deploys.`,
      '',
    ];
  }
  const version =
    change.before?.manifest.version === manifest.version
      ? `\`${manifest.version}\` again (the manifest changed)`
      : `\`${change.before?.manifest.version}\` → \`${manifest.version}\``;
  const lines = [
    `${name}: ${version} on ${plural(deployment.hostCount, 'host')}, ${startsWhen(deployment.tracks)}.`,
  ];
  if (manifest.notes) lines.push(`> ${manifest.notes.trim().split('\n').join('\n> ')}`);
  const { rollout } = deployment;
  const hosts = (list: readonly string[]) => list.map((h) => `\`${h}\``).join(', ');
  lines.push('');
  if (manifest.strategy.rollback)
    lines.push('- a rollback: no canary and no bake, the same batches and failure budget');
  if (rollout.canary.length > 0) {
    lines.push(
      `- canary: ${hosts(rollout.canary)}, then bake ${rollout.bakeSeconds} s${rollout.pauseAfterCanary ? ' and wait for a manual resume' : ''}`,
    );
  }
  rollout.batches.slice(0, LISTED_BATCHES).forEach((batch, index) => {
    lines.push(`- batch ${index + 1} of ${rollout.batches.length}: ${hosts(batch)}`);
  });
  if (rollout.batches.length > LISTED_BATCHES) {
    const more = rollout.batches.length - LISTED_BATCHES;
    lines.push(`- … ${more} more batch${more === 1 ? '' : 'es'}, in the order service.yaml lists the hosts`);
  }
  lines.push(
    '',
    `${rollout.pauseBetweenBatchesSeconds > 0 ? `${rollout.pauseBetweenBatchesSeconds} s between batches; ` : ''}halts after more than ${plural(rollout.maxFailedHosts, 'failed host')}.`,
    '',
  );
  return lines;
}

function goesLive(tracks: Environment['tracks'] | undefined): string {
  if (!tracks) return 'environment not declared';
  return 'branch' in tracks
    ? `live once on \`${tracks.branch}\``
    : `live with the next release tag matching \`${tracks.tag}\``;
}

function startsWhen(tracks: Environment['tracks'] | undefined): string {
  if (!tracks) return 'when the environment is declared';
  return 'branch' in tracks
    ? `starting once the commit is on \`${tracks.branch}\``
    : `starting when a release tag matching \`${tracks.tag}\` points at the merge`;
}

/** A line of content that starts a code fence would end the diff block early. */
function escapeFence(line: string): string {
  return line.replace(/^(.)```/, '$1`\u200b``');
}
