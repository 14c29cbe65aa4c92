import { diagnostic, START_OF_FILE } from '../diagnostic.js';
import type { FileFormat } from '../file-format.js';
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

/**
 * Parses a file's bytes in the given format. Text files parse to their string, and text files that are
 * not UTF-8 to their bytes (binary config is mirrored as it is). Structured files must be UTF-8.
 */
export function parseSource(file: string, bytes: Uint8Array, format: FileFormat): ParsedDocument {
  const text = decodeText(bytes);
  if (format === 'text') {
    return { value: text ?? bytes, diagnostics: [], positionOf: () => START_OF_FILE };
  }
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
  return PARSERS[format](file, text);
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
