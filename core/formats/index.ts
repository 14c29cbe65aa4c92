import { type Diagnostic, diagnostic, START_OF_FILE } from '../diagnostic.js';
import type { FileFormat } from '../file-format.js';
import { MAX_FILE_BYTES_CEILING } from '../manifests.js';
import { decodeText } from '../source-text.js';
import { type IniValue, parseIni, serializeIni } from './ini.js';
import { parseJson, serializeJson } from './json.js';
import type { ParsedDocument } from './parsed-document.js';
import { parseProperties, serializeProperties } from './properties.js';
import { parseToml, serializeToml } from './toml.js';
import { parseYaml, serializeYaml } from './yaml.js';

export type { IniValue } from './ini.js';
export type { ParsedDocument, ValuePath } from './parsed-document.js';

const PARSERS: Readonly<Record<Exclude<FileFormat, 'text'>, (file: string, text: string) => ParsedDocument>> =
  {
    yaml: parseYaml,
    json: parseJson,
    toml: parseToml,
    properties: parseProperties,
    ini: parseIni,
  };

/** Problems reported per file: a hostile file can have one on every line, and the first ones say enough. */
export const MAX_DIAGNOSTICS_PER_FILE = 50;

/**
 * Parses a file's bytes in the given format. Text files parse to their string, and text files that are
 * not UTF-8 to their bytes (binary config is mirrored as it is). Structured files must be UTF-8 and at
 * most MAX_FILE_BYTES_CEILING bytes. Never throws: whatever the bytes, what is wrong is a diagnostic.
 */
export function parseSource(file: string, bytes: Uint8Array, format: FileFormat): ParsedDocument {
  if (format === 'text') {
    return { value: decodeText(bytes) ?? bytes, diagnostics: [], positionOf: () => START_OF_FILE };
  }
  if (bytes.length > MAX_FILE_BYTES_CEILING) {
    return unparsed(
      diagnostic(
        file,
        START_OF_FILE,
        'error',
        'file/too-large',
        `file is ${bytes.length} bytes, over the ${MAX_FILE_BYTES_CEILING} bytes a ZooKeeper node can hold: split the file`,
      ),
    );
  }
  const document = parseStructured(file, bytes, format);
  return document.diagnostics.length > MAX_DIAGNOSTICS_PER_FILE
    ? { ...document, diagnostics: firstDiagnostics(document.diagnostics) }
    : document;
}

function parseStructured(
  file: string,
  bytes: Uint8Array,
  format: Exclude<FileFormat, 'text'>,
): ParsedDocument {
  const text = decodeText(bytes);
  if (text === undefined) {
    return {
      value: undefined,
      diagnostics: [
        diagnostic(
          file,
          START_OF_FILE,
          'error',
          'file/not-text',
          `not UTF-8 text (binary content or another encoding): a ${format} file must be UTF-8; ` +
            'rename it without the extension to ship it as opaque bytes',
        ),
      ],
      positionOf: () => START_OF_FILE,
    };
  }
  if (format === 'json' && text.trim() === '') {
    return {
      value: undefined,
      diagnostics: [
        diagnostic(
          file,
          START_OF_FILE,
          'error',
          'json/syntax',
          'empty file: a JSON file must hold a value, e.g. {}',
        ),
      ],
      positionOf: () => START_OF_FILE,
    };
  }
  try {
    return PARSERS[format](file, text);
  } catch (error) {
    // The parsers bound nesting and size, so this is a parser's own failure on input it should have
    // refused: the file is still what is wrong, and the commit is refused at it rather than crashing.
    return unparsed(
      diagnostic(
        file,
        START_OF_FILE,
        'error',
        'file/unparseable',
        `the ${format} parser failed on this file (${(error as Error).message}): simplify the file`,
      ),
    );
  }
}

function unparsed(problem: Diagnostic): ParsedDocument {
  return { value: undefined, diagnostics: [problem], positionOf: () => START_OF_FILE };
}

/** The first diagnostics of a file, and one more saying how many were left out. */
function firstDiagnostics(all: readonly Diagnostic[]): Diagnostic[] {
  const shown = all.slice(0, MAX_DIAGNOSTICS_PER_FILE);
  const hidden = all.slice(MAX_DIAGNOSTICS_PER_FILE);
  const first = hidden[0] as Diagnostic;
  const severity = hidden.some((d) => d.severity === 'error') ? 'error' : 'warning';
  shown.push(
    diagnostic(
      first.file,
      first,
      severity,
      'file/too-many-problems',
      `${hidden.length} more problems in this file are not listed: fix the ones above first`,
    ),
  );
  return shown;
}

/** Writes a value back in its format; used for effective files produced by merging overlays. */
export function serializeValue(format: Exclude<FileFormat, 'text'>, value: unknown): string {
  switch (format) {
    case 'yaml':
      return serializeYaml(value);
    case 'json':
      return serializeJson(value);
    case 'toml':
      return serializeToml(value);
    case 'properties':
      return serializeProperties(value as Record<string, string>);
    case 'ini':
      return serializeIni(value as IniValue);
  }
}
