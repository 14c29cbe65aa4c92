/** How bad a finding is: errors block a commit from being mirrored, warnings never do. */
export type Severity = 'error' | 'warning';

/**
 * One finding about a config repository, anchored at a 1-based line and column of the file's source
 * so that editors, `cairn validate` and pull-request annotations can all point at the same place.
 */
export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly severity: Severity;
  /** Stable identifier of the check, e.g. `yaml/duplicate-key`; tests and tools switch on it. */
  readonly rule: string;
  readonly message: string;
}

export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

export const START_OF_FILE: SourcePosition = { line: 1, column: 1 };

export function diagnostic(
  file: string,
  at: SourcePosition,
  severity: Severity,
  rule: string,
  message: string,
): Diagnostic {
  return { file, line: at.line, column: at.column, severity, rule, message };
}

/** Orders diagnostics as a reader scans a repository: by file, then by position. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule);
}
