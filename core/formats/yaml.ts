import {
  Composer,
  type CST,
  type Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  Parser,
  type Scalar,
  stringify,
  YAMLParseError,
} from 'yaml';
import { type Diagnostic, diagnostic, type SourcePosition, START_OF_FILE } from '../diagnostic.js';
import { MAX_NESTING_DEPTH, tooDeepDiagnostic } from './nesting.js';
import type { ParsedDocument, ValuePath } from './parsed-document.js';

/** A YAML "billion laughs" document expands aliases exponentially; real config never needs this many. */
const MAX_ALIAS_COUNT = 100;

const RULE_BY_YAML_CODE: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: 'yaml/duplicate-key',
  MULTIPLE_DOCS: 'yaml/multiple-documents',
};

export function parseYaml(file: string, text: string): ParsedDocument {
  const lineCounter = new LineCounter();
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    // linePos says line 0 for an offset before the first line break it was told of.
    return { line: Math.max(1, line), column: Math.max(1, col) };
  };
  // yaml's parser keeps its own stack, but composing the document recurses once per level: the
  // nesting is measured on the syntax tree first, so too deep a file never reaches the composer.
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  const tooDeep = offsetPastMaxDepth(tokens);
  if (tooDeep !== undefined) {
    return {
      value: undefined,
      diagnostics: [tooDeepDiagnostic(file, position(tooDeep), 'yaml')],
      positionOf: () => START_OF_FILE,
    };
  }
  const document = composeOneDocument(tokens, text.length);
  const diagnostics: Diagnostic[] = [];
  for (const error of document.errors) {
    const rule = RULE_BY_YAML_CODE[error.code] ?? 'yaml/syntax';
    diagnostics.push(diagnostic(file, position(error.pos[0]), 'error', rule, firstLine(error.message)));
  }
  for (const key of duplicateKeys(document)) {
    diagnostics.push(
      diagnostic(
        file,
        position(key.range?.[0] ?? 0),
        'error',
        'yaml/duplicate-key',
        `duplicate key ${JSON.stringify(String(key.value))}: only one value can be kept`,
      ),
    );
  }
  for (const warning of document.warnings) {
    diagnostics.push(
      diagnostic(file, position(warning.pos[0]), 'warning', 'yaml/syntax', firstLine(warning.message)),
    );
  }

  let value: unknown;
  if (!diagnostics.some((d) => d.severity === 'error')) {
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

/** The first document of the tokens, with an error when more follow (as yaml's parseDocument does). */
function composeOneDocument(tokens: readonly CST.Token[], length: number): Document.Parsed {
  // yaml's own uniqueKeys check compares each key with every key before it: a map of 100,000 keys
  // would take minutes. duplicateKeys does the same in one pass.
  const composer = new Composer({ uniqueKeys: false, strict: true });
  let first: Document.Parsed | undefined;
  for (const document of composer.compose(tokens, true, length)) {
    if (!first) first = document;
    else {
      first.errors.push(
        new YAMLParseError(
          document.range.slice(0, 2) as [number, number],
          'MULTIPLE_DOCS',
          'the file holds several YAML documents (a "---" line): keep one',
        ),
      );
      break;
    }
  }
  return first as Document.Parsed;
}

/** Every scalar key that repeats an earlier key of the same map, walked without recursion. */
function duplicateKeys(document: Document.Parsed): Scalar[] {
  const duplicates: Scalar[] = [];
  const pending: unknown[] = [document.contents];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value)) duplicates.push(pair.key);
          seen.add(pair.key.value);
        } else if (pair.key) pending.push(pair.key);
        if (pair.value) pending.push(pair.value);
      }
    } else if (isSeq(node)) {
      // One push per item: spreading 100,000 arguments would overflow the stack.
      for (const item of node.items) pending.push(item);
    }
  }
  return duplicates;
}

/** Where a collection first opens past MAX_NESTING_DEPTH, found without recursion. */
function offsetPastMaxDepth(tokens: readonly CST.Token[]): number | undefined {
  const pending: [CST.Token, number][] = tokens.map((token) => [token, 0]);
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [token, depth] = next;
    switch (token.type) {
      case 'document':
        if (token.value) pending.push([token.value, depth]);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection':
        if (depth + 1 > MAX_NESTING_DEPTH) return token.offset;
        for (const item of token.items) {
          if (item.key) pending.push([item.key, depth + 1]);
          if (item.value) pending.push([item.value, depth + 1]);
        }
        break;
    }
  }
  return undefined;
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
