import pino, { type Logger } from 'pino';
import type { CommandIo } from './io.js';

/** Structured JSON logs on stderr; CAIRN_LOG_LEVEL picks the level (default info). */
export function createLogger(io: CommandIo, name: string): Logger {
  return pino(
    { name, level: io.env.CAIRN_LOG_LEVEL ?? 'info' },
    { write: (line: string) => io.stderr(line) },
  );
}
