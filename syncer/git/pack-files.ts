import { randomBytes } from 'node:crypto';
import { lstat, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** The folder of a repository's packs. */
export function packDir(gitdir: string): string {
  return join(gitdir, 'objects', 'pack');
}

/**
 * A name for a pack being written into `packDir` (and its index, `.idx` left off so that no reader
 * takes it for a pack's until it is renamed): unique to one transfer, and swept at the next start
 * if the process dies before renaming it (removeAbandonedPackFiles).
 */
export function temporaryPackName(): string {
  return `tmp_pack-cairn-${randomBytes(8).toString('hex')}`;
}

/**
 * Names only a transfer or a repack that was given up leaves in `objects/pack`: ours
 * (temporaryPackName, its `.pack` and its index), `git index-pack`'s and `git pack-objects`'s
 * (`tmp_pack_XXXXXX`, `tmp_idx_XXXXXX`, `tmp_rev_XXXXXX`: mkstemp's six characters), and `git
 * repack`'s (`.tmp-<pid>-pack-<id>.<ext>`). A pack or index under any other name is never touched,
 * but for a pack whose index is missing.
 */
const ABANDONED = [
  /^tmp_pack-cairn-[0-9a-f]{16}(\.pack|\.idx-new)$/,
  /^tmp_(pack|idx|rev)_[A-Za-z0-9]{6}$/,
  /^\.tmp-[0-9]+-pack-[0-9a-f]{40}\.(pack|idx|rev|bitmap|mtimes|promisor)$/,
];

/**
 * Removes from the clone at `gitdir` the temporary pack files that transfers and repacks given up
 * left (a deadline, a damaged pack, a killed process): called before this process starts its
 * first transfer there (one process per clone); reads of the clone do not wait for it. Resolves with the names removed.
 */
export async function removeAbandonedPackFiles(gitdir: string): Promise<string[]> {
  const folder = packDir(gitdir);
  const names = await readdir(folder).catch(() => [] as string[]);
  const removed: string[] = [];
  const present = new Set(names);
  for (const name of names) {
    // A pack without its index (a process killed between the two) is one no reader can use.
    const unindexed = /^pack-[0-9a-f]{40}\.pack$/.test(name) && !present.has(name.replace(/\.pack$/, '.idx'));
    if (!unindexed && !ABANDONED.some((pattern) => pattern.test(name))) continue;
    const path = join(folder, name);
    const stat = await lstat(path).catch(() => undefined);
    if (!stat?.isFile()) continue;
    const gone = await unlink(path).then(
      () => true,
      // Not ours to remove after all (permissions), or removed meanwhile: left as it is.
      () => false,
    );
    if (gone) removed.push(name);
  }
  return removed;
}

/** How many packs the clone holds: each one is an index every object lookup reads. */
export async function countPacks(gitdir: string): Promise<number> {
  const names = await readdir(packDir(gitdir)).catch(() => [] as string[]);
  return names.filter((name) => /^pack-[0-9a-f]{40}\.idx$/.test(name)).length;
}
