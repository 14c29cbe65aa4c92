import { createHash } from 'node:crypto';

const ids = new WeakMap<Uint8Array, string>();

/**
 * The git blob id (SHA-1 of "blob <size>\0" + bytes) of some content: the same id git gives an
 * unchanged file, so anyone can match a znode to a blob. Memoised per byte array, since the model
 * reuses the same arrays for unchanged files from commit to commit.
 */
export function contentId(bytes: Uint8Array): string {
  let id = ids.get(bytes);
  if (id === undefined) {
    id = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    ids.set(bytes, id);
  }
  return id;
}

/**
 * Records the id of `bytes` that a git object database already named (the blob id it read them
 * by), so that `contentId` need not hash them again.
 */
export function rememberContentId(bytes: Uint8Array, id: string): void {
  ids.set(bytes, id);
}
