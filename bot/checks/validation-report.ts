import type { Diagnostic } from '../../core/index.js';
import type { CheckConclusion } from '../github.js';
import { CHECK_OUTPUT_LIMIT, truncateText } from '../text-limit.js';

export interface ValidationReportInput {
  readonly headSha: string;
  readonly diagnostics: readonly Diagnostic[];
  /** Findings about files not in the commit, which no annotation can point at. */
  readonly unattached: readonly Diagnostic[];
  readonly files: number;
  readonly services: number;
  /** `owner/name` of the fork the pull request comes from, if it does. */
  readonly fork?: string | undefined;
}

export interface ValidationReport {
  readonly conclusion: CheckConclusion;
  readonly title: string;
  readonly summary: string;
  readonly text: string;
}

/** The check's verdict and its words: errors fail it, warnings are shown but never block. */
export function renderValidationReport(input: ValidationReportInput): ValidationReport {
  const errors = input.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = input.diagnostics.length - errors;
  const short = input.headSha.slice(0, 7);
  const title =
    errors > 0
      ? `${plural(errors, 'error')}${warnings > 0 ? `, ${plural(warnings, 'warning')}` : ''}`
      : `valid: ${plural(input.services, 'service')}${warnings > 0 ? `, ${plural(warnings, 'warning')}` : ''}`;

  const lines: string[] = [];
  lines.push(
    errors > 0
      ? `**${title}** in the configuration at \`${short}\`: fix the errors before merging; the syncer refuses a commit that does not validate.`
      : `**The configuration at \`${short}\` is valid**: ${plural(input.files, 'file')}, ${plural(input.services, 'service')} checked${warnings > 0 ? `, ${plural(warnings, 'warning')} to look at` : ''}.`,
  );
  if (input.fork) {
    lines.push(
      '',
      `This pull request comes from the fork \`${input.fork}\`. Its files were read as data through this repository's API; nothing from it was run.`,
    );
  }
  if (input.diagnostics.length > 0) {
    lines.push('', '| file | errors | warnings |', '| --- | ---: | ---: |');
    for (const [file, counts] of countsByFile(input.diagnostics)) {
      lines.push(`| \`${file}\` | ${counts.errors} | ${counts.warnings} |`);
    }
  }
  if (input.unattached.length > 0) {
    lines.push(
      '',
      'Findings about files that are not in this commit, so no annotation can point at them:',
      '',
    );
    for (const d of input.unattached) lines.push(`- ${formatFinding(d)}`);
  }
  lines.push('', 'Run `npx cairn validate .` in a checkout of this branch to see the same findings.');

  const text =
    input.diagnostics.length === 0
      ? 'No findings.'
      : ['```', ...input.diagnostics.map(formatFinding), '```'].join('\n');
  return {
    conclusion: errors > 0 ? 'failure' : 'success',
    title,
    summary: truncateText(
      lines.join('\n'),
      CHECK_OUTPUT_LIMIT,
      '… the summary is cut here; every finding is annotated.',
    ),
    text: truncateText(text, CHECK_OUTPUT_LIMIT - 4, '… more findings: run `npx cairn validate .`\n```'),
  };
}

/** The `file:line:column: severity rule: message` form that `cairn validate` prints. */
export function formatFinding(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.rule}: ${d.message}`;
}

function countsByFile(diagnostics: readonly Diagnostic[]): Map<string, { errors: number; warnings: number }> {
  const counts = new Map<string, { errors: number; warnings: number }>();
  for (const d of diagnostics) {
    const entry = counts.get(d.file) ?? { errors: 0, warnings: 0 };
    if (d.severity === 'error') entry.errors++;
    else entry.warnings++;
    counts.set(d.file, entry);
  }
  return counts;
}

export function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;
}
