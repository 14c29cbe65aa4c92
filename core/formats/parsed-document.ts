import type { Diagnostic, SourcePosition } from '../diagnostic.js';

/** A path into a parsed value, as JSON Schema validators report it: keys and array indices. */
export type ValuePath = readonly (string | number)[];

/**
 * The result of parsing one file: its value (undefined when it could not be parsed), what was wrong
 * with its syntax, and a way back from a value path to the source, so later checks (schemas,
 * semantics) can report at the right line.
 */
export interface ParsedDocument {
  readonly value: unknown;
  readonly diagnostics: readonly Diagnostic[];
  /** Where the value at `path` starts; with `'key'`, where its key starts. Falls back to the nearest ancestor. */
  positionOf(path: ValuePath, part?: 'key' | 'value'): SourcePosition;
}
