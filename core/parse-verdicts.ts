import type { Diagnostic, SourcePosition } from './diagnostic.js';
import type { FileFormat } from './file-format.js';
import { type ParsedDocument, parseSource, type ValuePath } from './formats/index.js';

/**
 * Names the parsing rules of core/formats: bump it whenever a parser, or the library under it,
 * changes what it accepts or reports, so that verdicts recorded under the old rules are dropped.
 */
export const PARSE_RULES_VERSION = 1;

/**
 * What the loading of a file decided, kept by content id so that it outlives one process: the
 * syncer keeps it in its cache directory, and a restart parses no file it has seen before.
 *
 * Keys are `<format>:<content id>` for a file that parses with no finding at all,
 * `<manifest kind>:<content id>` for a manifest that also passed its schema, with its value, and
 * `merge:<format>:<base id>:<overlay id>` for an overlay merged over its base, with the merged text.
 * A file with any finding is never recorded: it is parsed again, and reported again.
 */
export interface ParseVerdicts {
  get(key: string): ParseVerdict | undefined;
  set(key: string, verdict: ParseVerdict): void;
}

export interface ParseVerdict {
  /** A manifest's value as its schema accepted it (JSON), or a merge's text; absent for a config file. */
  readonly value?: unknown;
}

/**
 * A document known to parse cleanly, parsed only when something asks for its value (an overlay
 * merges over it) or for a position (a check reports at a line). `known` is a value recorded
 * before, for a manifest. `onParse` counts the parses that did happen.
 */
export function deferredDocument(
  path: string,
  bytes: Uint8Array,
  format: FileFormat,
  onParse: () => void,
  known?: ParseVerdict,
): ParsedDocument {
  return new DeferredDocument(path, bytes, format, onParse, known);
}

/**
 * One object per file, no closures: a restart makes one for each of 10,000 files, and each closure
 * would be an allocation (and a name set on it) for the garbage collector.
 */
class DeferredDocument implements ParsedDocument {
  readonly diagnostics: readonly Diagnostic[] = [];
  private parsed: ParsedDocument | undefined;

  constructor(
    private readonly path: string,
    private readonly bytes: Uint8Array,
    private readonly format: FileFormat,
    private readonly onParse: () => void,
    private readonly known: ParseVerdict | undefined,
  ) {}

  get value(): unknown {
    const known = this.known;
    return known !== undefined && 'value' in known ? known.value : this.parse().value;
  }

  positionOf(valuePath: ValuePath, part?: 'key' | 'value'): SourcePosition {
    return this.parse().positionOf(valuePath, part);
  }

  private parse(): ParsedDocument {
    if (!this.parsed) {
      this.onParse();
      this.parsed = parseSource(this.path, this.bytes, this.format);
    }
    return this.parsed;
  }
}
