import { parse, stringify, TomlError } from 'smol-toml';
import { type Diagnostic, diagnostic, START_OF_FILE } from '../diagnostic.js';
import type { ParsedDocument } from './parsed-document.js';

export function parseToml(file: string, text: string): ParsedDocument {
  const diagnostics: Diagnostic[] = [];
  let value: unknown;
  try {
    value = parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const message = error.message.split('\n', 1)[0] ?? error.message;
    diagnostics.push(
      diagnostic(file, { line: error.line, column: error.column }, 'error', 'toml/syntax', message),
    );
  }
  // TOML values carry no source positions; checks on TOML content point at the start of the file.
  return { value, diagnostics, positionOf: () => START_OF_FILE };
}

export function serializeToml(value: unknown): string {
  return stringify(value as Record<string, unknown>);
}
