import { type Diagnostic, diagnostic, type SourcePosition } from '../diagnostic.js';

/**
 * How deeply maps and lists may nest in a structured file. Real configuration stays within a dozen
 * levels; the bound keeps every recursive step after parsing (schemas, overlay merge, serializers)
 * far from the stack's end, and is checked before any recursive parser runs.
 */
export const MAX_NESTING_DEPTH = 100;

export function tooDeepDiagnostic(file: string, at: SourcePosition, format: string): Diagnostic {
  return diagnostic(
    file,
    at,
    'error',
    `${format}/too-deep`,
    `maps and lists nest more than ${MAX_NESTING_DEPTH} levels deep here: flatten the structure`,
  );
}
