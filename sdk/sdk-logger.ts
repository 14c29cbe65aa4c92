/**
 * The logging the SDK does: structured fields first, then a message, as pino takes them. Pass a pino
 * logger (or a child of it) to see the SDK's logs among the service's own.
 */
export interface SdkLogger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

const ignore = () => {};

/** The default: the SDK reports through events and says nothing unless given a logger. */
export const SILENT_LOGGER: SdkLogger = { debug: ignore, info: ignore, warn: ignore };
