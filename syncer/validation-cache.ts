import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { forEachInSlices, type ParseVerdict, type ParseVerdicts, type SliceOptions } from '../core/index.js';
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

/** The file's first line: whose verdicts follow. */
interface CacheFileHeader {
  readonly version: string;
}

/** The file as read: its usable verdicts, and how many lines of verdicts it holds (-1: rewrite it). */
interface CacheFileRead {
  readonly version: string;
  readonly verdicts: Map<string, ParseVerdict>;
  readonly entries: number;
}

/**
 * Parse verdicts by content id, kept in a file of the syncer's cache directory, so that a syncer
 * that restarts (or a standby that starts) parses no file it parsed before. Keyed by the
 * validator's version as well: verdicts of another version are dropped. A missing, unreadable or
 * corrupt file only means starting empty.
 *
 * The file is JSON lines: a header naming the validator's version, then one `[key, verdict]` a
 * line. A save appends the verdicts added since the last one, so a commit costs what it changed,
 * not the size of the repository; the file is rewritten whole, atomically, with the verdicts this
 * process used, once it holds more than twice as many lines (verdicts of files long gone, or set
 * again), or anything it cannot read.
 */
export class ValidationCache implements ParseVerdicts {
  private readonly path: string;
  private readonly version: string;
  private readonly known: Map<string, ParseVerdict>;
  private readonly used = new Map<string, ParseVerdict>();
  /** Verdicts set since the file was last written: what the next save appends. */
  private unsaved = new Map<string, ParseVerdict>();
  /** Lines of verdicts in the file; -1 when it must be rewritten (missing, another version, unreadable lines). */
  private entries: number;
  private saving: Promise<void> = Promise.resolve();

  private readonly slices: SliceOptions | undefined;

  private constructor(
    path: string,
    version: string,
    known: Map<string, ParseVerdict>,
    entries: number,
    slices: SliceOptions | undefined,
  ) {
    this.path = path;
    this.version = version;
    this.known = known;
    this.entries = entries;
    this.slices = slices;
  }

  /**
   * Opens the cache at `path`; what cannot be read is reported to `onUnreadable` and ignored.
   * `slices`: how a save shares the event loop (a test passes its own clock).
   */
  static async open(
    path: string,
    version: string,
    onUnreadable?: (reason: string) => void,
    slices?: SliceOptions,
  ): Promise<ValidationCache> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') onUnreadable?.((error as Error).message);
      return new ValidationCache(path, version, new Map(), -1, slices);
    }
    const content = parseCacheFile(text);
    if (!content) onUnreadable?.('not a validation cache file');
    if (content?.version !== version) return new ValidationCache(path, version, new Map(), -1, slices);
    return new ValidationCache(path, version, content.verdicts, content.entries, slices);
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
    this.unsaved.set(key, verdict);
  }

  /** Writes what was set since the last save (see the class); one save at a time. */
  save(): Promise<void> {
    const run = this.saving.then(() => this.write());
    this.saving = run.catch(() => undefined);
    return run;
  }

  private async write(): Promise<void> {
    const rewrite = this.entries < 0 || this.entries + this.unsaved.size > 2 * this.used.size;
    if (!rewrite && this.unsaved.size === 0) return;
    // A first sync of 100,000 files saves as many verdicts: they become lines in slices, as the event
    // loop may not wait for them all (400 ms there), and nothing is copied first (150 ms more). What
    // is set meanwhile goes to a new `unsaved`, for the next save, and a rewrite leaves it out.
    const written = this.unsaved;
    this.unsaved = new Map();
    try {
      const lines: string[] = [];
      await forEachInSlices(
        rewrite ? this.used : written,
        (entry) => {
          if (!this.unsaved.has(entry[0])) lines.push(`${JSON.stringify(entry)}\n`);
        },
        this.slices,
      );
      await mkdir(dirname(this.path), { recursive: true });
      if (rewrite) {
        const header: CacheFileHeader = { version: this.version };
        const temporary = `${this.path}.${process.pid}.tmp`;
        await writeFile(temporary, `${JSON.stringify(header)}\n${lines.join('')}`);
        await rename(temporary, this.path);
        this.entries = lines.length;
      } else {
        await appendFile(this.path, lines.join(''));
        this.entries += lines.length;
      }
    } catch (error) {
      // Written again with the next save; a torn append is a line the next open cannot read,
      // which makes that process rewrite the file.
      for (const [key, verdict] of written) if (!this.unsaved.has(key)) this.unsaved.set(key, verdict);
      if (!rewrite) this.entries = -1;
      throw error;
    }
  }
}

/** The file's verdicts; the file of earlier versions (one JSON object) is read, to be rewritten. */
function parseCacheFile(text: string): CacheFileRead | undefined {
  const lines = text.split('\n');
  const header = parseJson(lines[0] ?? '');
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
  const { version, verdicts: earlier } = header as { version?: unknown; verdicts?: unknown };
  if (typeof version !== 'string') return undefined;
  const verdicts = new Map<string, ParseVerdict>();
  let entries = 0;
  let whole = earlier === undefined;
  if (typeof earlier === 'object' && earlier !== null) {
    for (const [key, verdict] of Object.entries(earlier)) if (isVerdict(verdict)) verdicts.set(key, verdict);
  }
  const body = lines.slice(1).filter((line) => line !== '');
  // One parse of every line at once (a restart reads 10,000 lines); line by line only when one is
  // torn or foreign, to keep the others.
  const all = parseJson(`[${body.join(',')}]`);
  const parsed = Array.isArray(all) && all.length === body.length ? all : body.map(parseJson);
  for (const entry of parsed) {
    if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && isVerdict(entry[1])) {
      // Nearly every verdict is a config file's, with nothing in it: one object stands for them all.
      verdicts.set(entry[0], isEmptyVerdict(entry[1]) ? EMPTY_VERDICT : entry[1]);
      entries++;
    } else {
      whole = false;
    }
  }
  return { version, verdicts, entries: whole ? entries : -1 };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // A torn or foreign line: the caller skips it and has the file rewritten.
    return undefined;
  }
}

const EMPTY_VERDICT: ParseVerdict = Object.freeze({});

function isEmptyVerdict(verdict: ParseVerdict): boolean {
  for (const _ in verdict) return false;
  return true;
}

function isVerdict(value: unknown): value is ParseVerdict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
