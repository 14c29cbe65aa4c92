import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Diagnostic } from '../../core/index.js';
import { validateRepoDir } from '../../schemas/index.js';
import { type CommandContext, EXIT_FINDINGS, EXIT_OK } from '../io.js';
import { escapeControlCharacters } from '../terminal-text.js';
import { UsageError } from '../usage-error.js';

const FORMATS = ['text', 'json'] as const;
type OutputFormat = (typeof FORMATS)[number];

export function registerValidate(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('validate')
    .description('check a config repository: syntax, schemas, layout and cross-file rules')
    .argument('[dir]', 'the config repository to check', '.')
    .option('--format <format>', `output format: ${FORMATS.join(' or ')}`, 'text')
    .option('--no-warnings', 'print errors only')
    .addHelpText(
      'after',
      '\nExit status: 0 when there are no errors, 1 when there are, 2 when the directory cannot be read.\n' +
        'As a pre-commit hook or CI step: cairn validate .',
    )
    .action(async (dir: string, options: { format: string; warnings: boolean }) => {
      const format = parseFormat(options.format);
      const root = resolve(io.cwd, dir);
      const result = await validateRepoDir(root);
      const shown = options.warnings
        ? result.diagnostics
        : result.diagnostics.filter((d) => d.severity === 'error');
      const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = result.diagnostics.length - errors;
      if (format === 'json') {
        io.stdout(`${JSON.stringify({ root, errors, warnings, diagnostics: shown }, null, 2)}\n`);
      } else {
        for (const d of shown) io.stdout(`${formatDiagnostic(join(dir, d.file), d)}\n`);
        io.stdout(`${summary(errors, warnings, result.repo.services.size)}\n`);
      }
      setExitCode(errors > 0 ? EXIT_FINDINGS : EXIT_OK);
    });
}

function parseFormat(value: string): OutputFormat {
  if ((FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new UsageError(`unknown --format "${value}": use ${FORMATS.join(' or ')}`);
}

/** The `file:line:column:` form that editors and CI log viewers turn into links. */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  const [shownFile, rule, message] = [file, d.rule, d.message].map(escapeControlCharacters);
  return `${shownFile}:${d.line}:${d.column}: ${d.severity} ${rule}: ${message}`;
}

function summary(errors: number, warnings: number, services: number): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const verdict = errors > 0 ? 'invalid' : 'valid';
  return `${verdict}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')} (${plural(services, 'service')} checked)`;
}
