import { fileURLToPath } from 'node:url';
import { type RepoTree, readRepoDir } from '../../core/index.js';

/** The example config repository every part of Cairn is demonstrated and tested on. */
export const EXAMPLE_REPO_DIR = fileURLToPath(new URL('../../example-config-repo', import.meta.url));

export async function exampleTree(): Promise<Map<string, Uint8Array>> {
  return new Map((await readRepoDir(EXAMPLE_REPO_DIR)).tree);
}

/** A copy of `tree` with files replaced, added (string or bytes) or removed (null). */
export function withChanges(
  tree: RepoTree,
  changes: Record<string, string | Uint8Array | null>,
): Map<string, Uint8Array> {
  const next = new Map(tree);
  for (const [path, content] of Object.entries(changes)) {
    if (content === null) next.delete(path);
    else next.set(path, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
  }
  return next;
}

export function text(tree: RepoTree, path: string): string {
  const bytes = tree.get(path);
  if (!bytes) throw new Error(`no ${path} in the tree`);
  return Buffer.from(bytes).toString('utf8');
}

/** The 1-based line on which `needle` first appears in `source`. */
export function lineOf(source: string, needle: string): number {
  const index = source.indexOf(needle);
  if (index < 0) throw new Error(`${JSON.stringify(needle)} not found`);
  return source.slice(0, index).split('\n').length;
}
