import { CairnError } from '../errors.js';

/** The kinds of record Cairn keeps in ZooKeeper, each with one module in core/records/. */
export type RecordKind =
  | 'head'
  | 'history'
  | 'refusal'
  | 'environment pointer'
  | 'environment manifest'
  | 'service'
  | 'release'
  | 'instance'
  | 'pin'
  | 'host assignment'
  | 'agent'
  | 'approval'
  | 'deployment'
  | 'deployment task'
  | 'deployment claim'
  | 'deployment control'
  | 'deployment log chunk'
  | 'acl principals';

/**
 * A ZooKeeper node (or git note) that does not hold the record it should. The syncer rewrites what it
 * owns on its next sync; readers keep what they have and say which node is damaged.
 */
export class CorruptRecordError extends CairnError {
  readonly record: RecordKind;
  readonly path: string | undefined;

  constructor(record: RecordKind, path: string | undefined, reason: string) {
    super('CORRUPT_RECORD', `${path ?? 'data'} does not hold a Cairn ${record} record: ${reason}`);
    this.record = record;
    this.path = path;
  }
}

export const COMMIT_SHA = /^[0-9a-f]{40}$/;

/**
 * Typed access to the fields of a record's JSON object. Every accessor checks the type and fails
 * with a CorruptRecordError naming the field, so decoders read like the record's definition.
 */
export class RecordFields {
  private readonly kind: RecordKind;
  private readonly path: string | undefined;
  private readonly prefix: string;
  private readonly value: Readonly<Record<string, unknown>>;

  constructor(kind: RecordKind, path: string | undefined, value: unknown, prefix = '') {
    this.kind = kind;
    this.path = path;
    this.prefix = prefix;
    if (!isPlainObject(value)) throw this.fail(prefix || 'the record', 'must be a JSON object');
    this.value = value;
  }

  /** Parses bytes as a JSON object. */
  static parse(kind: RecordKind, data: Uint8Array, path?: string): RecordFields {
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
    } catch (error) {
      throw new CorruptRecordError(kind, path, `not JSON (${(error as Error).message})`);
    }
    return new RecordFields(kind, path, value);
  }

  has(name: string): boolean {
    return this.value[name] !== undefined && this.value[name] !== null;
  }

  keys(): string[] {
    return Object.keys(this.value);
  }

  string(name: string, pattern?: RegExp): string {
    const value = this.value[name];
    if (typeof value !== 'string') throw this.fail(name, 'must be a string');
    if (pattern && !pattern.test(value)) throw this.fail(name, `must match ${pattern}`);
    return value;
  }

  optionalString(name: string, pattern?: RegExp): string | undefined {
    return this.has(name) ? this.string(name, pattern) : undefined;
  }

  integer(name: string, min = Number.MIN_SAFE_INTEGER): number {
    const value = this.value[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
      throw this.fail(
        name,
        `must be an integer${min > Number.MIN_SAFE_INTEGER ? ` of at least ${min}` : ''}`,
      );
    return value;
  }

  optionalInteger(name: string, min?: number): number | undefined {
    return this.has(name) ? this.integer(name, min) : undefined;
  }

  number(name: string): number {
    const value = this.value[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) throw this.fail(name, 'must be a number');
    return value;
  }

  optionalNumber(name: string): number | undefined {
    return this.has(name) ? this.number(name) : undefined;
  }

  boolean(name: string): boolean {
    const value = this.value[name];
    if (typeof value !== 'boolean') throw this.fail(name, 'must be true or false');
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    return this.has(name) ? this.boolean(name) : undefined;
  }

  object(name: string): RecordFields {
    return new RecordFields(this.kind, this.path, this.value[name], this.qualified(name));
  }

  optionalObject(name: string): RecordFields | undefined {
    return this.has(name) ? this.object(name) : undefined;
  }

  /** An array whose items `item` decodes (given each item's own fields). */
  array<T>(name: string, item: (fields: RecordFields, index: number) => T): T[] {
    const value = this.value[name];
    if (!Array.isArray(value)) throw this.fail(name, 'must be an array');
    return value.map((entry, index) =>
      item(new RecordFields(this.kind, this.path, entry, `${this.qualified(name)}[${index}]`), index),
    );
  }

  stringArray(name: string, pattern?: RegExp): string[] {
    const value = this.value[name];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || (pattern && !pattern.test(v))))
      throw this.fail(
        name,
        pattern ? `must be an array of strings matching ${pattern}` : 'must be an array of strings',
      );
    return value as string[];
  }

  /** An object used as a map from names to strings. */
  stringMap(name: string, valuePattern?: RegExp): Record<string, string> {
    const value = this.value[name];
    if (!isPlainObject(value)) throw this.fail(name, 'must be an object of strings');
    for (const [key, entry] of Object.entries(value)) {
      if (typeof entry !== 'string' || (valuePattern && !valuePattern.test(entry)))
        throw this.fail(
          `${name}.${key}`,
          valuePattern ? `must be a string matching ${valuePattern}` : 'must be a string',
        );
    }
    return value as Record<string, string>;
  }

  /** An object used as a map from names to records, each decoded by `entry`. */
  map<T>(name: string, entry: (fields: RecordFields, key: string) => T): Record<string, T> {
    const value = this.value[name];
    if (!isPlainObject(value)) throw this.fail(name, 'must be an object');
    const out: Record<string, T> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = entry(new RecordFields(this.kind, this.path, item, `${this.qualified(name)}.${key}`), key);
    }
    return out;
  }

  /** The raw value of a field the record carries through without interpreting it. */
  raw(name: string): unknown {
    return this.value[name];
  }

  fail(name: string, reason: string): CorruptRecordError {
    const field = name === (this.prefix || 'the record') ? name : this.qualified(name);
    return new CorruptRecordError(this.kind, this.path, `${field} ${reason}`);
  }

  private qualified(name: string): string {
    return this.prefix ? `${this.prefix}.${name}` : name;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The bytes of a record: compact JSON in UTF-8. */
export function encodeJson(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
