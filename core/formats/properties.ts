import { type Diagnostic, diagnostic, type SourcePosition, START_OF_FILE } from '../diagnostic.js';
import type { ParsedDocument, ValuePath } from './parsed-document.js';

/*
 * Java .properties, read line by line. A dedicated reader (rather than a general-purpose package)
 * because diagnostics need the line of every key, and duplicate keys must be reported, not collapsed.
 * Follows java.util.Properties#load: `#`/`!` comments, `=`, `:` or white space as separator,
 * backslash continuation lines and `\uXXXX` escapes.
 */

export function parseProperties(file: string, text: string): ParsedDocument {
  const value: Record<string, string> = {};
  const keyLines = new Map<string, number>();
  const diagnostics: Diagnostic[] = [];
  const physical = text.split(/\r\n|\r|\n/);

  for (let index = 0; index < physical.length; index++) {
    const startLine = index + 1;
    let logical = (physical[index] ?? '').replace(/^[ \t\f]+/, '');
    if (logical === '' || logical.startsWith('#') || logical.startsWith('!')) continue;
    while (endsWithContinuation(logical) && index + 1 < physical.length) {
      index++;
      logical = logical.slice(0, -1) + (physical[index] ?? '').replace(/^[ \t\f]+/, '');
    }
    const { key, rawValue } = splitKeyValue(logical);
    const unescapedKey = unescapeJava(key, file, startLine, diagnostics);
    const unescapedValue = unescapeJava(rawValue, file, startLine, diagnostics);
    if (keyLines.has(unescapedKey)) {
      diagnostics.push(
        diagnostic(
          file,
          { line: startLine, column: 1 },
          'warning',
          'properties/duplicate-key',
          `duplicate key ${JSON.stringify(unescapedKey)} (first on line ${keyLines.get(unescapedKey)}): the last value wins`,
        ),
      );
    }
    keyLines.set(unescapedKey, startLine);
    value[unescapedKey] = unescapedValue;
  }

  return {
    value,
    diagnostics,
    positionOf(path: ValuePath): SourcePosition {
      const line = path.length > 0 ? keyLines.get(String(path[0])) : undefined;
      return line ? { line, column: 1 } : START_OF_FILE;
    },
  };
}

function endsWithContinuation(line: string): boolean {
  let backslashes = 0;
  for (let i = line.length - 1; i >= 0 && line[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

function splitKeyValue(line: string): { key: string; rawValue: string } {
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '=' || c === ':' || c === ' ' || c === '\t' || c === '\f') break;
    i++;
  }
  const key = line.slice(0, i);
  let rest = line.slice(i).replace(/^[ \t\f]+/, '');
  if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]+/, '');
  return { key, rawValue: rest };
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function unescapeJava(raw: string, file: string, line: number, diagnostics: Diagnostic[]): string {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = raw[++i];
    if (next === undefined) break;
    if (next === 'u') {
      const hex = raw.slice(i + 1, i + 5);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        diagnostics.push(
          diagnostic(
            file,
            { line, column: 1 },
            'error',
            'properties/syntax',
            `malformed \\uXXXX escape "\\u${hex}": expected four hexadecimal digits`,
          ),
        );
        return out;
      }
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 4;
    } else {
      out += SIMPLE_ESCAPES[next] ?? next;
    }
  }
  return out;
}

/** Writes properties back in Java's syntax, escaping only what would otherwise change meaning. */
export function serializeProperties(value: Readonly<Record<string, string>>): string {
  const escapeText = (s: string, isKey: boolean) =>
    s
      .replace(/\\/g, '\\\\')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t')
      .replace(/\f/g, '\\f')
      .replace(isKey ? /([=: #!])/g : /^([ #!])/g, '\\$1');
  return Object.entries(value)
    .map(([key, v]) => `${escapeText(key, true)}=${escapeText(v, false)}\n`)
    .join('');
}
