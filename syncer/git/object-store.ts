import type fs from 'node:fs';

/**
 * A git object database as every isomorphic-git call here sees it: the directory and the ONE cache
 * object shared by all calls. Without a shared cache, each call parses the packfile indexes again:
 * minutes instead of seconds on a large repository.
 */
export interface ObjectStore {
  readonly fs: typeof fs;
  readonly gitdir: string;
  readonly cache: object;
  /** How the repository is named in messages: a URL without credentials, or a path. */
  readonly display: string;
  /** Called once a pack was added to the store or removed from it (see store-files.ts). */
  packsChanged?(): void;
}
