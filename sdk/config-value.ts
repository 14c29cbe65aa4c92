import { compileValueSchema, type JsonSchema } from './file-validators.js';
import type { FileValueResult } from './file-value.js';
import { lookUpKeyPath, parseKeyPath } from './key-path.js';
import type { SchemaVerdict, StandardSchemaV1 } from './standard-schema.js';

/** How to read one value of a file: a default for when it is missing, a schema it must match. */
export interface ValueOptions<T = unknown> {
  /** Returned when the file or the key is missing. Without a schema, the value found must be of its type. */
  readonly default?: T;
  /** A Standard Schema (Zod, Valibot…: its output is the value) or a JSON Schema the value must match. */
  readonly schema?: StandardSchemaV1<unknown, T> | JsonSchema;
}

export type ValueResolution =
  | { readonly kind: 'value'; readonly value: unknown }
  /** No such file or key, and no default: `at` is how far the path was found. */
  | { readonly kind: 'missing'; readonly fileMissing: boolean; readonly at: string }
  | { readonly kind: 'invalid'; readonly reason: string };

/** One file's key path with its default and schema, compiled once. */
export interface ValueRule {
  readonly file: string;
  readonly path: string;
  resolve(file: FileValueResult | undefined): ValueResolution;
}

export function compileValueRule(file: string, path: string, options: ValueOptions = {}): ValueRule {
  const segments = parseKeyPath(path);
  const hasDefault = options !== null && typeof options === 'object' && 'default' in options;
  const check: (value: unknown) => SchemaVerdict =
    options?.schema !== undefined
      ? compileValueSchema('schema', options.schema)
      : hasDefault
        ? (value) => likeDefault(value, options.default)
        : (value) => ({ ok: true, value });
  return {
    file,
    path,
    resolve(parsed) {
      if (parsed === undefined || !parsed.ok) {
        if (hasDefault) return { kind: 'value', value: options.default };
        if (parsed === undefined) return { kind: 'missing', fileMissing: true, at: '' };
        return { kind: 'invalid', reason: parsed.reason };
      }
      const found = lookUpKeyPath(parsed.value, segments);
      if (!found.found) {
        if (hasDefault) return { kind: 'value', value: options.default };
        return { kind: 'missing', fileMissing: false, at: found.at };
      }
      const verdict = check(found.value);
      return verdict.ok
        ? { kind: 'value', value: verdict.value }
        : { kind: 'invalid', reason: verdict.reason };
    },
  };
}

/**
 * Without a schema, a default's type is the value's type: a number stays a number. A `.properties`
 * or `.ini` value is text, so text that reads as a number or boolean is taken as one when the
 * default is one.
 */
function likeDefault(value: unknown, fallback: unknown): SchemaVerdict {
  const expected = kindOf(fallback);
  if (expected === 'null' || kindOf(value) === expected) return { ok: true, value };
  if (typeof value === 'string') {
    const text = value.trim();
    if (expected === 'number' && text !== '' && Number.isFinite(Number(text)))
      return { ok: true, value: Number(text) };
    if (expected === 'boolean' && (text === 'true' || text === 'false'))
      return { ok: true, value: text === 'true' };
  }
  return {
    ok: false,
    reason: `is ${kindOf(value) === 'object' || kindOf(value) === 'array' ? 'an' : 'a'} ${kindOf(value)} (${preview(value)}), and its default is a ${expected}; give a schema to accept other types`,
  };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'bytes';
  return typeof value;
}

function preview(value: unknown): string {
  const text = value instanceof Uint8Array ? `${value.length} bytes` : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
