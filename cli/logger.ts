import pino, { type Logger } from 'pino';
import type { CommandIo } from './io.js';
import { formatLogRecord } from './log-format.js';
import { REDACTED } from './secret-redactor.js';
import { UsageError } from './usage-error.js';

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  /** Settings another convention names, used when Cairn's variables are not set (Probot's LOG_LEVEL). */
  readonly fallback?: { readonly level?: string | undefined; readonly format?: string | undefined };
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * Fields that hold secrets wherever they are logged (a config object, request headers): censored
 * by pino before the line is written. Known secret values inside any text are masked after, on
 * stderr, by the command's SecretRedactor.
 */
const SECRET_FIELDS = [
  'password',
  'token',
  'secret',
  'webhookSecret',
  'privateKey',
  'gitCredentials',
  'authorization',
];
const REDACT_PATHS = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.headers.${field}`]);

/**
 * The one place Cairn's loggers are made (the syncer's, the bot's, `cairn start`'s): pino on
 * stderr, one line per record. On a terminal a line is written for people (`log-format.ts`), and
 * JSON otherwise, for machines; CAIRN_LOG_FORMAT=json or pretty decides instead. CAIRN_LOG_LEVEL
 * picks the level (default info). Both are checked here, with a message naming the variable.
 */
export function createLogger(io: CommandIo, name: string, options: LoggerOptions = {}): Logger {
  const level = io.env.CAIRN_LOG_LEVEL || options.fallback?.level || 'info';
  if (!LEVELS.includes(level))
    throw new UsageError(`CAIRN_LOG_LEVEL "${level}" is not a level: use one of ${LEVELS.join(', ')}`);
  const format = logFormatOf(io, options.fallback?.format);
  const stacks = Boolean(io.env.CAIRN_DEBUG);
  const color = io.terminal === true && !io.env.NO_COLOR;
  const write =
    format === 'json'
      ? (line: string) => io.stderr(line)
      : (line: string) => io.stderr(`${formatLogRecord(JSON.parse(line), { color, stacks })}\n`);
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: REDACTED } }, { write });
}

/** JSON unless a person reads stderr on a terminal; CAIRN_LOG_FORMAT overrides either way. */
export function logFormatOf(io: CommandIo, fallback?: string): LogFormat {
  const chosen = io.env.CAIRN_LOG_FORMAT || fallback;
  if (chosen === undefined || chosen === '') return io.terminal ? 'pretty' : 'json';
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  throw new UsageError(`CAIRN_LOG_FORMAT "${chosen}" is not a log format: use json or pretty`);
}
