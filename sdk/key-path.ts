import { CairnError } from '../core/index.js';

/** A key path that cannot be read: empty segments, an unclosed bracket, a bracket that is not an index. */
export class KeyPathError extends CairnError {
  readonly path: string;

  constructor(path: string, reason: string) {
    super(
      'INVALID_KEY_PATH',
      `key path ${JSON.stringify(path)}: ${reason}; write keys separated by dots, array items by index (ranking.models.0.name or ranking.models[0].name)`,
    );
    this.path = path;
  }
}

/**
 * The segments of a key path: `ranking.maxResults`, `ranking.models.0.name` or
 * `ranking.models[0].name`; `''` is the whole file.
 */
export function parseKeyPath(path: string): readonly string[] {
  if (typeof path !== 'string') throw new KeyPathError(String(path), 'a key path is a string');
  if (path === '') return [];
  const segments: string[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!match) throw new KeyPathError(path, `"${part}" has a bracket that is not an array index like [0]`);
    const [, key, indexes] = match as unknown as [string, string, string];
    if (key === '' && indexes === '') throw new KeyPathError(path, 'it has an empty key');
    if (key !== '') segments.push(key);
    for (const index of indexes.matchAll(/\[(\d+)\]/g)) segments.push(index[1] as string);
  }
  return segments;
}

export type KeyLookup =
  | { readonly found: true; readonly value: unknown }
  /** `at`: the part of the path that was found, to say where the lookup stopped. */
  | { readonly found: false; readonly at: string };

/**
 * The value at a key path. At a map, a key that itself contains dots (a `.properties` file's
 * `server.port`, flat) matches whole, the longest first; at an array, a segment is an index.
 */
export function lookUpKeyPath(root: unknown, segments: readonly string[]): KeyLookup {
  let node = root;
  let index = 0;
  const walked: string[] = [];
  while (index < segments.length) {
    if (Array.isArray(node)) {
      const segment = segments[index] as string;
      if (!/^\d+$/.test(segment) || Number(segment) >= node.length)
        return { found: false, at: walked.join('.') };
      node = node[Number(segment)];
      walked.push(segment);
      index++;
      continue;
    }
    if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node))
      return { found: false, at: walked.join('.') };
    const map = node as Record<string, unknown>;
    let matched = 0;
    for (let end = segments.length; end > index; end--) {
      const key = segments.slice(index, end).join('.');
      if (Object.hasOwn(map, key)) {
        node = map[key];
        walked.push(key);
        matched = end - index;
        break;
      }
    }
    if (matched === 0) return { found: false, at: walked.join('.') };
    index += matched;
  }
  return { found: true, value: node };
}
