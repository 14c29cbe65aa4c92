import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { ParseVerdict, ParseVerdicts } from '../core/index.js';
import { VALIDATOR_VERSION } from '../schemas/index.js';

/** The file of the syncer's cache directory that keeps verdicts between runs. */
export const VALIDATION_CACHE_FILE = 'cairn-validation-cache.json';

/** The validation cache of the syncer whose cache directory is `cacheDir`. */
export function openValidationCache(cacheDir: string, logger: Logger): Promise<ValidationCache> {
  const path = join(cacheDir, VALIDATION_CACHE_FILE);
  return ValidationCache.open(path, VALIDATOR_VERSION, (reason) =>
    logger.warn({ path, reason }, 'ignoring an unreadable validation cache: every file is parsed once again'),
  );
}

/** The file as written: every verdict this process used, under the validator's version. */
interface CacheFileContent {
  readonly version: string;
  readonly verdicts: Record<string, ParseVerdict>;
}

/** The file as read: its usable verdicts, and whether it holds exactly those (nothing to drop). */
interface CacheFileRead {
  readonly version: string;
  readonly verdicts: Map<string, ParseVerdict>;
  readonly whole: boolean;
}

/**
 * Parse verdicts by content id, kept in a file of the syncer's cache directory, so that a syncer
 * that restarts (or a standby that starts) parses no file it parsed before. Keyed by the
 * validator's version as well: verdicts of another version are dropped. A missing, unreadable or
 * corrupt file only means starting empty; the file is rewritten whole, atomically, with the
 * verdicts this process used, so it holds what the current commits need and no more, and it is
 * not rewritten when it already holds exactly that (a restart that reads the commit it read before).
 */
export class ValidationCache implements ParseVerdicts {
  private readonly path: string;
  private readonly version: string;
  private readonly known: Map<string, ParseVerdict>;
  private readonly used = new Map<string, ParseVerdict>();
  /** Verdicts set since the file was last written. */
  private added = false;
  /** How many of the verdicts in `used` the file holds, when it holds nothing else; -1 when it does. */
  private saved: number;

  private constructor(path: string, version: string, known: Map<string, ParseVerdict>, saved: number) {
    this.path = path;
    this.version = version;
    this.known = known;
    this.saved = saved;
  }

  /** Opens the cache at `path`; what cannot be read is reported to `onUnreadable` and ignored. */
  static async open(
    path: string,
    version: string,
    onUnreadable?: (reason: string) => void,
  ): Promise<ValidationCache> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onUnreadable?.((error as Error).message);
      return new ValidationCache(path, version, new Map(), -1);
    }
    const content = parseCacheFile(text);
    if (!content) onUnreadable?.('not a validation cache file');
    if (content?.version !== version) return new ValidationCache(path, version, new Map(), -1);
    return new ValidationCache(path, version, content.verdicts, content.whole ? content.verdicts.size : -1);
  }

  get size(): number {
    return this.known.size;
  }

  get(key: string): ParseVerdict | undefined {
    const verdict = this.known.get(key);
    if (verdict && !this.used.has(key)) this.used.set(key, verdict);
    return verdict;
  }

  set(key: string, verdict: ParseVerdict): void {
    this.known.set(key, verdict);
    this.used.set(key, verdict);
    this.added = true;
  }

  /**
   * Writes the verdicts used since this process opened the cache, unless the file holds exactly
   * those: nothing set since it was written, and every verdict it holds used (`used` only grows
   * from what the file held, so equal counts mean equal sets).
   */
  async save(): Promise<void> {
    if (!this.added && this.used.size === this.saved) return;
    const content: CacheFileContent = { version: this.version, verdicts: Object.fromEntries(this.used) };
    const temporary = `${this.path}.${process.pid}.tmp`;
    const saving = this.used.size;
    this.added = false;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await writeFile(temporary, JSON.stringify(content));
      await rename(temporary, this.path);
      this.saved = saving;
    } catch (error) {
      this.added = true;
      throw error;
    }
  }
}

function parseCacheFile(text: string): CacheFileRead | undefined {
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    // A torn or foreign file: the caller starts empty and says so.
    return undefined;
  }
  if (typeof content !== 'object' || content === null) return undefined;
  const { version, verdicts } = content as Partial<CacheFileContent>;
  if (typeof version !== 'string' || typeof verdicts !== 'object' || verdicts === null) return undefined;
  const usable = new Map<string, ParseVerdict>();
  let whole = true;
  for (const key in verdicts) {
    const verdict: unknown = verdicts[key];
    if (typeof verdict === 'object' && verdict !== null && !Array.isArray(verdict))
      usable.set(key, verdict as ParseVerdict);
    else whole = false;
  }
  return { version, verdicts: usable, whole };
}
