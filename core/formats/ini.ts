import { type Diagnostic, diagnostic, type SourcePosition, START_OF_FILE } from '../diagnostic.js';
import type { ParsedDocument, ValuePath } from './parsed-document.js';

/** Keys before the first `[section]`, and each section's keys, as plain string maps. */
export type IniValue = Record<string, string | Record<string, string>>;

/*
 * INI, read strictly line by line. Common INI packages accept any line silently; Cairn must instead
 * report a line that is neither a section, a `key = value` pair nor a comment, at its line number.
 */
export function parseIni(file: string, text: string): ParsedDocument {
  const value: IniValue = {};
  const lines = new Map<string, number>();
  const diagnostics: Diagnostic[] = [];
  let section: Record<string, string> = value as Record<string, string>;
  let sectionName: string | undefined;

  text.split(/\r\n|\r|\n/).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith(';') || trimmed.startsWith('#')) return;
    const header = /^\[([^\]]+)\]$/.exec(trimmed);
    if (header) {
      sectionName = (header[1] as string).trim();
      if (typeof value[sectionName] === 'string') {
        diagnostics.push(
          diagnostic(
            file,
            { line, column: 1 },
            'error',
            'ini/syntax',
            `section [${sectionName}] has the name of a key above it`,
          ),
        );
      }
      const existing = value[sectionName];
      if (typeof existing === 'object') {
        diagnostics.push(
          diagnostic(
            file,
            { line, column: 1 },
            'warning',
            'ini/duplicate-section',
            `section [${sectionName}] appears again (first on line ${lines.get(sectionName)}); its keys are merged`,
          ),
        );
        section = existing;
      } else {
        section = {};
        value[sectionName] = section;
        lines.set(sectionName, line);
      }
      return;
    }
    const separator = trimmed.search(/[=:]/);
    if (separator <= 0) {
      diagnostics.push(
        diagnostic(
          file,
          { line, column: raw.length - raw.trimStart().length + 1 },
          'error',
          'ini/syntax',
          `expected "[section]", "key = value" or a comment, found ${JSON.stringify(trimmed.slice(0, 40))}`,
        ),
      );
      return;
    }
    const key = trimmed.slice(0, separator).trim();
    const qualified = sectionName === undefined ? key : `${sectionName}\u0000${key}`;
    if (lines.has(qualified)) {
      diagnostics.push(
        diagnostic(
          file,
          { line, column: 1 },
          'warning',
          'ini/duplicate-key',
          `duplicate key ${JSON.stringify(key)}${sectionName === undefined ? '' : ` in [${sectionName}]`} (first on line ${lines.get(qualified)}): the last value wins`,
        ),
      );
    }
    lines.set(qualified, line);
    section[key] = unquote(trimmed.slice(separator + 1).trim());
  });

  return {
    value,
    diagnostics,
    positionOf(path: ValuePath): SourcePosition {
      const qualified = path.length >= 2 ? `${path[0]}\u0000${path[1]}` : String(path[0] ?? '');
      const line = lines.get(qualified) ?? lines.get(String(path[0] ?? ''));
      return line ? { line, column: 1 } : START_OF_FILE;
    },
  };
}

function unquote(raw: string): string {
  const quoted = /^"(.*)"$/.exec(raw) ?? /^'(.*)'$/.exec(raw);
  return quoted ? (quoted[1] as string) : raw;
}

export function serializeIni(value: IniValue): string {
  const out: string[] = [];
  const sections: [string, Record<string, string>][] = [];
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string') out.push(`${key} = ${entry}`);
    else sections.push([key, entry]);
  }
  for (const [name, entries] of sections) {
    if (out.length > 0) out.push('');
    out.push(`[${name}]`);
    for (const [key, entry] of Object.entries(entries)) out.push(`${key} = ${entry}`);
  }
  return `${out.join('\n')}\n`;
}
