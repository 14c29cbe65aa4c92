import { formatOf, parseSource } from '../core/index.js';

export type FileValueResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly reason: string };

/**
 * A config file's value, by its extension as every part of Cairn decides it: yaml, json, properties,
 * ini and toml parse to plain data; other files to their text, or to their bytes when they are not
 * UTF-8. Values are frozen: every listener of a client shares them, so none may change them for the
 * others.
 */
export function decodeFileValue(file: string, bytes: Uint8Array): FileValueResult {
  // Frozen values can be shared: clients of the process that share the bytes (core's sharedContent)
  // parse them once.
  let byFile = decoded.get(bytes);
  const known = byFile?.get(file);
  if (known) return known;
  const result = parseFileValue(file, bytes);
  if (!byFile) {
    byFile = new Map();
    decoded.set(bytes, byFile);
  }
  byFile.set(file, result);
  return result;
}

/** Values decoded, by their bytes and then the file's path (its extension decides the format). */
const decoded = new WeakMap<Uint8Array, Map<string, FileValueResult>>();

function parseFileValue(file: string, bytes: Uint8Array): FileValueResult {
  const document = parseSource(file, bytes, formatOf(file));
  const error = document.diagnostics.find((d) => d.severity === 'error');
  if (error || document.value === undefined) {
    const where = error ? `:${error.line}:${error.column} ${error.message}` : ': no value';
    return { ok: false, reason: `cannot parse ${file}${where}` };
  }
  return { ok: true, value: deepFreeze(document.value) };
}

function deepFreeze<T>(value: T): T {
  // Typed arrays cannot be frozen; readers get copies of bytes instead.
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || Object.isFrozen(value))
    return value;
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
