import { escapeControlCharacters } from './terminal-text.js';

/**
 * One log record (a pino JSON line, parsed) as a person reads it on a terminal, on one line:
 *
 *   14:02:07.512 INFO  syncer commit mirrored  commit=3f9c2e1 creates=57 timings.writeMs=212.4
 *
 * Time of day, level, the logger's name, the message, then the fields as key=value: nested objects
 * flattened into dotted keys, commit ids shortened as git shortens them, an error as its code and
 * message. A list of records (the diagnostics of a refused commit) follows, one indented line each.
 */
export function formatLogRecord(record: Readonly<Record<string, unknown>>, options: LogStyle): string {
  const paint = options.color ? ansi : plain;
  const level = levelName(record.level);
  const head = [
    paint.dim(timeOfDay(record.time)),
    paint.level(level, level.toUpperCase().padEnd(5)),
    ...(typeof record.name === 'string' ? [paint.name(escapeControlCharacters(record.name))] : []),
    typeof record.msg === 'string' ? escapeControlCharacters(record.msg) : '',
  ].join(' ');
  const fields: string[] = [];
  const lists: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN_KEYS.has(key) || value === undefined) continue;
    if (isErrorLike(value)) {
      fields.push(`${paint.dim(`${key}=`)}${quote(errorText(value))}`);
      if (options.stacks && typeof value.stack === 'string')
        lists.push(indent(value.stack.split('\n').map(escapeControlCharacters).join('\n')));
    } else if (Array.isArray(value) && value.length > 0 && value.every(isPlainObject)) {
      value.forEach((item, index) => {
        lists.push(
          indent(
            flatten(`${key}[${index}]`, item)
              .map(([k, v]) => pair(paint, k, v))
              .join(' '),
          ),
        );
      });
    } else {
      for (const [k, v] of flatten(key, value)) fields.push(pair(paint, k, v));
    }
  }
  const line = fields.length > 0 ? `${head}  ${fields.join(' ')}` : head;
  return [line, ...lists].join('\n');
}

export interface LogStyle {
  /** ANSI colours, for a terminal that shows them. */
  readonly color: boolean;
  /** Errors' stack traces, indented below the line (for CAIRN_DEBUG). */
  readonly stacks?: boolean;
}

/**
 * Fields a person does not need on every line: the same for every line of a process (its pid, host,
 * the syncer's replica id and branch), or shown already (time, level, name, message).
 */
const HIDDEN_KEYS: ReadonlySet<string> = new Set([
  'time',
  'level',
  'name',
  'msg',
  'pid',
  'hostname',
  'replica',
  'branch',
  'v',
]);

const LEVELS: Readonly<Record<number, string>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

function levelName(level: unknown): string {
  if (typeof level === 'string') return level;
  return (typeof level === 'number' && LEVELS[level]) || 'info';
}

function timeOfDay(time: unknown): string {
  const date = new Date(typeof time === 'number' || typeof time === 'string' ? time : Date.now());
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface ErrorLike {
  readonly message: string;
  readonly code?: unknown;
  readonly type?: unknown;
  readonly stack?: unknown;
}

/** pino's error serializer gives { type, message, stack, code?, … }. */
function isErrorLike(value: unknown): value is ErrorLike {
  return isPlainObject(value) && typeof value.message === 'string' && ('stack' in value || 'type' in value);
}

function errorText(error: ErrorLike): string {
  const code = typeof error.code === 'string' ? error.code : typeof error.type === 'string' ? error.type : '';
  return code ? `${code}: ${error.message}` : error.message;
}

/** Nested objects become dotted keys (two levels deep); deeper values and lists stay compact JSON. */
function flatten(key: string, value: unknown, depth = 0): [string, unknown][] {
  if (isPlainObject(value) && depth < 2 && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => flatten(`${key}.${k}`, v, depth + 1));
  }
  return [[key, value]];
}

function pair(paint: Paint, key: string, value: unknown): string {
  return `${paint.dim(`${escapeControlCharacters(key)}=`)}${valueText(value)}`;
}

const COMMIT_ID = /^[0-9a-f]{40}$/;

function valueText(value: unknown): string {
  if (typeof value === 'string') return quote(COMMIT_ID.test(value) ? value.slice(0, 7) : value);
  if (typeof value === 'number') return String(roundForReading(value));
  if (value === null || typeof value === 'boolean') return String(value);
  return escapeControlCharacters(
    JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' ? roundForReading(v) : v)),
  );
}

/** Durations in ms carry six decimals; one is enough to read. */
function roundForReading(value: number): number {
  return Number.isInteger(value) ? value : Math.round(value * 10) / 10;
}

/**
 * Bare when unambiguous, JSON-quoted when it holds spaces, quotes, `=` or nothing at all; control
 * characters escaped either way (JSON leaves C1 controls and bidirectional overrides as they are).
 */
function quote(text: string): string {
  return escapeControlCharacters(text === '' || /[\s"=\\]/.test(text) ? JSON.stringify(text) : text);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

interface Paint {
  dim(text: string): string;
  name(text: string): string;
  level(level: string, text: string): string;
}

const plain: Paint = { dim: (t) => t, name: (t) => t, level: (_, t) => t };

const LEVEL_COLORS: Readonly<Record<string, string>> = {
  trace: '90',
  debug: '90',
  info: '32',
  warn: '33',
  error: '31;1',
  fatal: '31;1',
};

const ansi: Paint = {
  dim: (t) => `\x1b[2m${t}\x1b[22m`,
  name: (t) => `\x1b[36m${t}\x1b[39m`,
  level: (level, t) => `\x1b[${LEVEL_COLORS[level] ?? '0'}m${t}\x1b[0m`,
};
