import {
  createScanner,
  findNodeAtLocation,
  getNodeValue,
  type Node,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from 'jsonc-parser';
import { type Diagnostic, diagnostic, type SourcePosition, START_OF_FILE } from '../diagnostic.js';
import { LineIndex } from '../source-text.js';
import { MAX_NESTING_DEPTH, tooDeepDiagnostic } from './nesting.js';
import type { ParsedDocument, ValuePath } from './parsed-document.js';

/**
 * Parses strict JSON (no comments, no trailing commas) keeping offsets, which JSON.parse cannot give:
 * every diagnostic needs a line, and duplicate keys, which JSON.parse silently collapses, are errors.
 */
export function parseJson(file: string, text: string): ParsedDocument {
  const lines = new LineIndex(text);
  // jsonc-parser's tree builder recurses once per level: too deep a file would overflow the stack.
  const tooDeep = offsetPastMaxDepth(text);
  if (tooDeep !== undefined) {
    return {
      value: undefined,
      diagnostics: [tooDeepDiagnostic(file, lines.positionAt(tooDeep), 'json')],
      positionOf: () => START_OF_FILE,
    };
  }
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  const diagnostics: Diagnostic[] = errors.map((error) =>
    diagnostic(
      file,
      lines.positionAt(error.offset),
      'error',
      'json/syntax',
      `invalid JSON: ${describeParseError(printParseErrorCode(error.error))}`,
    ),
  );
  if (root && errors.length === 0) collectDuplicateKeys(file, root, lines, diagnostics);
  const value = root && errors.length === 0 ? getNodeValue(root) : undefined;

  return {
    value,
    diagnostics,
    positionOf(path: ValuePath, part = 'value'): SourcePosition {
      if (!root) return START_OF_FILE;
      for (let depth = path.length; depth >= 0; depth--) {
        const node = findNodeAtLocation(root, [...path.slice(0, depth)]);
        if (!node) continue;
        const keyNode = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
        if (part === 'key' && depth === path.length && keyNode) return lines.positionAt(keyNode.offset);
        return lines.positionAt(node.offset);
      }
      return START_OF_FILE;
    },
  };
}

// jsonc-parser's SyntaxKind is a const enum, which isolated modules cannot import.
const OPEN_BRACE = 1;
const CLOSE_BRACE = 2;
const OPEN_BRACKET = 3;
const CLOSE_BRACKET = 4;
const EOF = 17;

/** Where an object or array first opens past MAX_NESTING_DEPTH, found by its (iterative) scanner. */
function offsetPastMaxDepth(text: string): number | undefined {
  const scanner = createScanner(text, true);
  let depth = 0;
  for (let token = scanner.scan(); token !== EOF; token = scanner.scan()) {
    if (token === OPEN_BRACE || token === OPEN_BRACKET) {
      if (++depth > MAX_NESTING_DEPTH) return scanner.getTokenOffset();
    } else if (token === CLOSE_BRACE || token === CLOSE_BRACKET) {
      depth = Math.max(0, depth - 1);
    }
  }
  return undefined;
}

function collectDuplicateKeys(file: string, node: Node, lines: LineIndex, out: Diagnostic[]): void {
  if (node.type === 'object') {
    const seen = new Set<string>();
    for (const property of node.children ?? []) {
      const keyNode = property.children?.[0];
      if (!keyNode) continue;
      const key = String(keyNode.value);
      if (seen.has(key)) {
        out.push(
          diagnostic(
            file,
            lines.positionAt(keyNode.offset),
            'error',
            'json/duplicate-key',
            `duplicate key ${JSON.stringify(key)}: only the last value would be kept`,
          ),
        );
      }
      seen.add(key);
    }
  }
  for (const child of node.children ?? []) collectDuplicateKeys(file, child, lines, out);
}

function describeParseError(code: string): string {
  // "CloseBraceExpected" -> "close brace expected"
  return code.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export function serializeJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
