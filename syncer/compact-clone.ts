import type { Logger } from 'pino';
import { errorLogFields } from '../core/index.js';
import type { GitSource } from './git/index.js';

/**
 * Repacks the clone kept in --cache-dir once it holds more packs than its limit (each fetch adds
 * one): git runs in a process of its own, and the source keeps readers away meanwhile. A failure
 * only leaves the packs as they are: it is logged, and a later call tries again.
 */
export async function compactClone(source: GitSource, logger: Logger): Promise<void> {
  try {
    const compaction = await source.compactPacks();
    if (compaction) logger.info(compaction, 'repacked the clone');
  } catch (error) {
    logger.warn(errorLogFields(error), (error as Error).message);
  }
}
