import type { Logger } from 'pino';
import { claimDirectory, type DirectoryClaim, DirectoryInUseError } from '../core/index.js';
import type { SyncerConfig } from './syncer-config.js';

const HINT = 'give each syncer its own --cache-dir (CAIRN_CACHE_DIR), or stop the other one first';

/** Default cache folders a replica tries, the named one first, before it gives up. */
const DEFAULT_FOLDERS_AT_MOST = 16;

/**
 * Holds the cache directory for this syncer alone: two processes fetching into, repacking and
 * sweeping one clone would remove each other's packs under way, and rewrite each other's validation
 * cache. A directory given (`--cache-dir`) that another live syncer holds is an error; with the
 * default one, a second replica on the machine takes the first free folder beside it (`<dir>.2`,
 * `<dir>.3`, …), which it finds again, warm, when it restarts. Resolves with the claim, whose `dir`
 * is the folder to use.
 */
export async function claimCacheDir(
  config: Pick<SyncerConfig, 'cacheDir' | 'cacheDirIsDefault'>,
  logger: Logger,
): Promise<DirectoryClaim> {
  const tries = config.cacheDirIsDefault ? DEFAULT_FOLDERS_AT_MOST : 1;
  for (let n = 1; ; n++) {
    const dir = n === 1 ? config.cacheDir : `${config.cacheDir}.${n}`;
    try {
      const claim = await claimDirectory(dir, 'syncer', HINT);
      if (n > 1)
        logger.info(
          { cacheDir: claim.dir },
          'the default cache directory is held by another syncer on this machine: using the next free one',
        );
      return claim;
    } catch (error) {
      if (!(error instanceof DirectoryInUseError) || n >= tries) throw error;
    }
  }
}
