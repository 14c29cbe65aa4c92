const MAX_SEGMENT_BYTES = 255;

/**
 * Segments of ASCII letters, digits, `_`, `-` and inner dots: none is empty, `.`, `..`, a name git
 * refuses (all of those start with a dot or hold a `~`, `\\` or `:`) or ends with a dot.
 */
const PLAIN_PATH = /^[\w-](?:[\w.-]*[\w-])?(?:\/[\w-](?:[\w.-]*[\w-])?)*$/;

/** A plain segment that Windows reserves for a device (`con`, `nul.yaml`, `COM1`): the rules below name it. */
const DEVICE_SEGMENT = /(?:^|\/)(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\.[^/]*)?(?:\/|$)/i;

/**
 * Whether a repository path is safe to become a file on a host (agents write it under a directory)
 * and a chain of znodes in ZooKeeper. Returns why not, or undefined when it is safe.
 */
export function unsafePathReason(path: string): string | undefined {
  // Nearly every path is plain: settled by two scans instead of the rules below, segment by segment.
  if (path.length <= MAX_SEGMENT_BYTES && PLAIN_PATH.test(path) && !DEVICE_SEGMENT.test(path))
    return undefined;
  return unsafePathReasonByRules(path);
}

/** `unsafePathReason` without its quick scan: the rules themselves, which the scan must agree with. */
export function unsafePathReasonByRules(path: string): string | undefined {
  if (path === '') return 'the path is empty';
  if (path.startsWith('/')) return 'absolute paths are not allowed';
  if (path.includes('\\')) return 'backslashes are not allowed (they separate folders on Windows hosts)';
  // Names that are not UTF-8 reach Cairn decoded, with U+FFFD in place of each bad byte.
  if (path.includes('\ufffd'))
    return 'the name is not UTF-8 text (shown with U+FFFD in place of its bad bytes)';
  // ZooKeeper rejects these code points in znode names; most are invisible or control characters.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  const forbidden = /[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/u.exec(path);
  if (forbidden) {
    const code = forbidden[0].codePointAt(0)?.toString(16).padStart(4, '0');
    return `it contains the control or reserved character U+${code?.toUpperCase()}`;
  }
  for (const segment of path.split('/')) {
    if (segment === '') return 'it contains an empty segment ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return `"${segment}" segments could escape the target directory`;
    if (isUnsafeTreeEntryName(segment))
      return `"${segment}" is git's own folder name (or an alias of it), which no checkout may hold`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
      return `the segment "${segment.slice(0, 20)}…" is longer than 255 bytes`;
    if (/^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i.test(segment)) {
      return `"${segment}" is a reserved device name on Windows hosts`;
    }
    if (/[. ]$/.test(segment))
      return `the segment "${segment}" ends with a dot or space, which Windows hosts drop`;
  }
  return undefined;
}

/**
 * What every unsafe entry name has: a backslash, a `/`, an ignorable code point, U+FFFD, no
 * character at all, or (once those are gone) a first character that `.`, `..`, `.git` and `git~1`
 * start with, in either case.
 */
const MAYBE_UNSAFE_ENTRY_NAME = /[\\/\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff\ufffd]|^[.gG]|^$/;
/**
 * The same scan over every segment of a path at once: a segment starts the path or follows a `/`,
 * and an empty one is a `/` at either end, two in a row, or an empty path.
 */
const MAYBE_UNSAFE_SEGMENT = /[\\\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff\ufffd]|(?:^|\/)(?:[.gG/]|$)/;

/**
 * Whether a segment of `path` (split at `/`) might be an unsafe tree entry name: when not, none is,
 * and a reader of a whole tree need not split the path to check each (see `isUnsafeTreeEntryName`).
 */
export function mayHoldUnsafeTreeEntryName(path: string): boolean {
  return MAYBE_UNSAFE_SEGMENT.test(path);
}

/**
 * Whether git refuses a tree entry of this name in a checkout, and isomorphic-git to read a tree
 * holding it (its GitTree's test): `.`, `..`, a backslash, and `.git` with its Windows and macOS
 * aliases (`GIT~1`, `.git.`, `.git::$INDEX_ALLOCATION`, `.g\u200cit`). Also an empty name and one
 * holding a `/`, which git's fsck refuses in a tree and which would read as another path, and a
 * name that is not UTF-8, which reaches Cairn with U+FFFD in place of each bad byte: two different
 * names (a folder `\x80` and a file `\x81`) would read as one, and a tree read would silently lose
 * one of them. The syncer's tree reader refuses a commit at such an entry, whichever way it lists
 * the tree.
 */
export function isUnsafeTreeEntryName(name: string): boolean {
  // Every tree entry of every commit read passes here: most names are settled by one scan.
  if (!MAYBE_UNSAFE_ENTRY_NAME.test(name)) return false;
  return isUnsafeByWholeRule(name);
}

/** `isUnsafeTreeEntryName` without its quick scan: the rule itself, which the scan must agree with. */
export function isUnsafeByWholeRule(name: string): boolean {
  // Code points macOS ignores in names (HFS+), so `.g\u200cit` is `.git` there.
  const withoutIgnorables = name.replace(/[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]/g, '');
  // Windows drops trailing dots and spaces and reads `name:stream` as `name`.
  const normalized =
    withoutIgnorables
      .split(':')[0]
      ?.toLowerCase()
      .replace(/[. ]+$/, '') ?? '';
  return (
    name === '' ||
    name.includes('/') ||
    name.includes('\\') ||
    name.includes('\ufffd') ||
    withoutIgnorables === '.' ||
    withoutIgnorables === '..' ||
    normalized === '.git' ||
    /^\.?git~[1-9]$/.test(normalized)
  );
}
