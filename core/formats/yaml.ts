import { isMap, isNode, isScalar, LineCounter, type Node, parseDocument, stringify } from 'yaml';
import { type Diagnostic, diagnostic, type SourcePosition, START_OF_FILE } from '../diagnostic.js';
import type { ParsedDocument, ValuePath } from './parsed-document.js';

/** A YAML "billion laughs" document expands aliases exponentially; real config never needs this many. */
const MAX_ALIAS_COUNT = 100;

const RULE_BY_YAML_CODE: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: 'yaml/duplicate-key',
  MULTIPLE_DOCS: 'yaml/multiple-documents',
};

export function parseYaml(file: string, text: string): ParsedDocument {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { uniqueKeys: true, lineCounter, prettyErrors: false, strict: true });
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const diagnostics: Diagnostic[] = [];
  for (const error of document.errors) {
    const rule = RULE_BY_YAML_CODE[error.code] ?? 'yaml/syntax';
    diagnostics.push(diagnostic(file, position(error.pos[0]), 'error', rule, firstLine(error.message)));
  }
  for (const warning of document.warnings) {
    diagnostics.push(
      diagnostic(file, position(warning.pos[0]), 'warning', 'yaml/syntax', firstLine(warning.message)),
    );
  }

  let value: unknown;
  if (document.errors.length === 0) {
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      // toJS throws only for alias explosions and similar resource limits.
      diagnostics.push(diagnostic(file, START_OF_FILE, 'error', 'yaml/syntax', (error as Error).message));
    }
  }

  return {
    value,
    diagnostics,
    positionOf(path: ValuePath, part = 'value'): SourcePosition {
      for (let depth = path.length; depth >= 0; depth--) {
        const prefix = path.slice(0, depth);
        if (part === 'key' && depth === path.length && depth > 0) {
          const keyNode = findKey(document.getIn(prefix.slice(0, -1), true), prefix[depth - 1]);
          if (keyNode?.range) return position(keyNode.range[0]);
        }
        const node = depth === 0 ? document.contents : document.getIn(prefix, true);
        if (isNode(node) && node.range) return position(node.range[0]);
      }
      return START_OF_FILE;
    },
  };
}

function findKey(parent: unknown, key: string | number | undefined): Node | undefined {
  if (!isMap(parent)) return undefined;
  for (const pair of parent.items) {
    const pairKey = pair.key;
    if (isScalar(pairKey) && String(pairKey.value) === String(key)) return pairKey;
  }
  return undefined;
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0]?.replace(/ at line \d+, column \d+:?$/, '') ?? message;
}

export function serializeYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}
