import { plural } from '../checks/validation-report.js';
import { codeBlock, codeSpan, escapeMarkdown } from '../markdown.js';
import { CHECK_OUTPUT_LIMIT, truncateText } from '../text-limit.js';
import type { AppliedCheck, Participant, ServiceApply } from './evaluate-applied.js';

/** Rejections shown with their output; the rest are in the table. */
const DETAILED_REJECTIONS = 20;
/** The end of a command's output shown per rejection. */
const OUTPUT_LINES = 30;
const OUTPUT_CHARACTERS = 3000;
/** Rows of the table before it is cut with a note. */
const TABLE_ROWS = 500;

export interface AppliedReport {
  readonly title: string;
  readonly summary: string;
}

/** The check's words: a title, then why it is in this state, each rejection, and every host and instance. */
export function renderAppliedCheck(check: AppliedCheck, deadlineMs: number): AppliedReport {
  const everyone = check.services.flatMap((s) => s.participants);
  const of = (state: Participant['state']) => everyone.filter((p) => p.state === state);
  const applied = of('applied');
  const rejected = of('rejected');
  const waiting = of('waiting');
  const env = check.env;
  const services = listed(check.services.map((s) => `**${escapeMarkdown(s.service)}**`));
  const within = formatDuration(deadlineMs);
  const lines: string[] = [];
  let title: string;
  const verdict = check.verdict;
  if (verdict.status === 'in_progress') {
    title = `${applied.length} of ${everyone.length} applied in ${env}; waiting for ${names(waiting)}`;
    lines.push(
      `**Waiting for ${waiting.length} of ${everyone.length}.** This check stays in progress until every host the service tree lists and every registered instance has applied this commit's files; it fails at the first rejection, and times out at ${check.deadline} (${within} after the commit was mirrored) if anyone is still missing.`,
    );
  } else if (verdict.reason === 'applied') {
    title = `Applied in ${env}: ${counts(everyone)}`;
    lines.push(
      '**Every host and instance applied it.** Each host listed in the service tree had its agent write the files, check and reload the service; each registered instance serves exactly these files.',
    );
  } else if (verdict.reason === 'rejected') {
    title = `Rejected in ${env} by ${names(rejected)}`;
    lines.push(
      `**Rejected by ${counts(rejected)}.** A host that rejects a snapshot puts its previous files back and keeps serving them; an instance keeps the configuration it served. Neither tries this snapshot again: fix it with a new commit.${waiting.length > 0 ? ` ${waiting.length} still waiting: this check is updated as they report.` : ''}`,
    );
  } else if (verdict.reason === 'superseded') {
    const later = [
      ...new Set(
        check.services.flatMap((s) =>
          s.supersededBy
            ? [`${codeSpan(s.supersededBy.commit.slice(0, 7))}${tagOf(s.supersededBy.tag)}`]
            : [],
        ),
      ),
    ];
    title = `Superseded in ${env} by ${check.services.find((s) => s.supersededBy)?.supersededBy?.commit.slice(0, 7)}: ${applied.length} of ${everyone.length} had applied it`;
    lines.push(
      `**Superseded.** ${listed(later)} changed ${listed(
        check.services.filter((s) => s.supersededBy).map((s) => `**${escapeMarkdown(s.service)}**`),
      )} in ${codeSpan(env)} again before every host and instance had applied this commit: nobody waits for this snapshot any more, and the later commit's own check follows the rollout.`,
    );
  } else if (verdict.reason === 'nobody') {
    title = `Nothing in ${env} applies it: no host is listed and no instance is registered`;
    lines.push(
      `**Nothing to wait for.** The service tree lists no host for ${services} in ${codeSpan(env)} (or the service's files are read through the SDK, not written by agents), and no instance is registered there.`,
    );
  } else {
    title = `Timed out in ${env}: ${waiting.length} of ${everyone.length} had not applied it after ${within}`;
    lines.push(
      `**Timed out** at ${check.deadline}, ${within} after the commit was mirrored: ${listed(waiting.map((p) => `**${escapeMarkdown(p.name)}**`))} had not reported it applied. \`cairn status\` shows what they serve now.`,
    );
  }
  lines.push(
    '',
    `Commit ${codeSpan(check.commit.slice(0, 7))}${tagOf(check.tag)} changed the files of ${services} in ${codeSpan(env)}; the syncer mirrored it at ${check.mirroredAt}.`,
  );
  if (rejected.length > 0) lines.push('', '### Rejections', '', ...renderRejections(check.services));
  lines.push('', ...renderTable(check.services));
  return {
    title: title.length > 200 ? `${title.slice(0, 199)}…` : title,
    summary: truncateText(
      lines.join('\n'),
      CHECK_OUTPUT_LIMIT,
      '… cut here: `cairn status` shows every host and instance.',
    ),
  };
}

function renderRejections(services: readonly ServiceApply[]): string[] {
  const rejections = services.flatMap((s) =>
    s.participants.filter((p) => p.state === 'rejected').map((p) => ({ service: s.service, p })),
  );
  const lines: string[] = [];
  for (const { service, p } of rejections.slice(0, DETAILED_REJECTIONS)) {
    const refused = p.refused;
    const command = refused?.command ? ` · ${codeSpan(refused.command)}` : '';
    lines.push(
      `**${escapeMarkdown(p.name)}**${p.where ? ` (${escapeMarkdown(p.where)})` : ''} · ${escapeMarkdown(service)} · ${escapeMarkdown(refused?.how ?? 'rejected')}${command}`,
    );
    const output = tail(refused?.output ?? '');
    lines.push('', output ? codeBlock(output) : '_It printed nothing._', '');
  }
  if (rejections.length > DETAILED_REJECTIONS)
    lines.push(`_… and ${rejections.length - DETAILED_REJECTIONS} more, listed in the table below._`, '');
  return lines;
}

const ORDER: Readonly<Record<Participant['state'], number>> = {
  rejected: 0,
  waiting: 1,
  superseded: 2,
  applied: 3,
};

function renderTable(services: readonly ServiceApply[]): string[] {
  const rows = services
    .flatMap((s) => s.participants.map((p) => ({ service: s.service, p })))
    .sort((a, b) => ORDER[a.p.state] - ORDER[b.p.state]);
  if (rows.length === 0) return [];
  const lines = ['| service | host or instance | state | |', '| --- | --- | --- | --- |'];
  for (const { service, p } of rows.slice(0, TABLE_ROWS)) {
    const who = `${p.kind} ${escapeMarkdown(p.name)}${p.where ? ` (${escapeMarkdown(p.where)})` : ''}`;
    const state = p.state === 'rejected' ? '**rejected**' : p.state;
    lines.push(`| ${escapeMarkdown(service)} | ${who} | ${state} | ${escapeMarkdown(p.detail ?? '')} |`);
  }
  if (rows.length > TABLE_ROWS)
    lines.push('', `_… ${rows.length - TABLE_ROWS} more; \`cairn status\` lists every host and instance._`);
  return lines;
}

/** The end of what a command printed: its last lines, at most a few thousand characters. */
function tail(output: string): string {
  const lines = output.replace(/\s+$/, '').split('\n');
  let text = lines.slice(-OUTPUT_LINES).join('\n');
  if (text.length > OUTPUT_CHARACTERS) text = `…${text.slice(-OUTPUT_CHARACTERS)}`;
  return text;
}

function tagOf(tag: string | undefined): string {
  return tag ? ` (tag ${codeSpan(tag)})` : '';
}

/** "edge-01", "edge-01 and edge-02", "edge-01, edge-02, edge-03 and 4 more" (plain text, for titles). */
function names(participants: readonly Participant[]): string {
  const shown = participants.slice(0, 3).map((p) => p.name);
  const more = participants.length - shown.length;
  return more > 0 ? `${shown.join(', ')} and ${more} more` : listed(shown);
}

function listed(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function counts(participants: readonly Participant[]): string {
  const hosts = participants.filter((p) => p.kind === 'host').length;
  const instances = participants.length - hosts;
  return [hosts > 0 ? plural(hosts, 'host') : '', instances > 0 ? plural(instances, 'instance') : '']
    .filter(Boolean)
    .join(' and ');
}

/** "30 min", "45 s", "2 h". */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  const hours = ms / 3_600_000;
  return `${Number.isInteger(hours) ? hours : hours.toFixed(1)} h`;
}
