import { isUnsafeTreeEntryName } from '../../core/index.js';
import { UnsafeTreeEntryError } from './errors.js';
import { PackFormatError } from './pack-format.js';

/** One entry of a tree: what a folder holds under one name. */
export interface TreeEntry {
  /** As git reads it (`canon_mode`): 040000, 100644, 100755, 120000 or 160000. */
  readonly mode: string;
  readonly type: 'tree' | 'blob' | 'commit';
  readonly oid: string;
}

/**
 * The entries of a tree object by name (each `<octal mode> <name>\0<20-byte id>`). Modes are read
 * as git reads them (`canon_mode`): a file is 100755 when its owner may execute it and 100644
 * otherwise (old trees hold 100664), and a mode that is no file, link or folder is a submodule, so
 * a diff sees what `git ls-tree` lists. A name no checkout may hold (core's
 * `isUnsafeTreeEntryName`: `.git`, a `/`, none at all, …) is an UnsafeTreeEntryError naming its
 * path under `prefix`.
 */
export function parseTree(bytes: Buffer, prefix = ''): Map<string, TreeEntry> {
  const entries = new Map<string, TreeEntry>();
  let at = 0;
  while (at < bytes.length) {
    const space = bytes.indexOf(0x20, at);
    const nul = space < 0 ? -1 : bytes.indexOf(0, space + 1);
    if (nul < 0 || nul + 21 > bytes.length) throw new PackFormatError('a tree object ends inside an entry');
    const mode = canonicalMode(Number.parseInt(bytes.toString('latin1', at, space), 8));
    const name = bytes.toString('utf8', space + 1, nul);
    if (isUnsafeTreeEntryName(name)) {
      throw new UnsafeTreeEntryError(`${prefix}${name}`);
    }
    const oid = bytes.toString('hex', nul + 1, nul + 21);
    entries.set(name, {
      mode,
      type: mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob',
      oid,
    });
    at = nul + 21;
  }
  return entries;
}

/** git's `canon_mode`: the file type bits decide, and of a file's permissions only the owner's execute bit. */
function canonicalMode(mode: number): string {
  switch (mode & 0o170000) {
    case 0o100000:
      return mode & 0o100 ? '100755' : '100644';
    case 0o120000:
      return '120000';
    case 0o040000:
      return '040000';
    default:
      return '160000';
  }
}

/** What a commit object says, as far as the syncer records it. */
export interface ParsedCommit {
  readonly tree: string;
  readonly parents: readonly string[];
  readonly author: { readonly name: string; readonly email: string };
  /** Seconds since the epoch, when the commit was committed. */
  readonly committedAt: number;
  /** Everything after the headers, as stored (with git's trailing newline). */
  readonly message: string;
}

const IDENTITY = /^(.*) <(.*)> (\d+) ([+-]\d{4})$/;

/** Reads a commit object: its headers (a signature's continuation lines skipped), then its message. */
export function parseCommit(bytes: Buffer): ParsedCommit {
  const text = bytes.toString('utf8');
  const end = text.indexOf('\n\n');
  const headers = (end < 0 ? text : text.slice(0, end)).split('\n');
  let tree: string | undefined;
  const parents: string[] = [];
  let author: RegExpExecArray | null = null;
  let committer: RegExpExecArray | null = null;
  for (const line of headers) {
    const space = line.indexOf(' ');
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (key === 'tree') tree = value;
    else if (key === 'parent') parents.push(value);
    else if (key === 'author') author = IDENTITY.exec(value);
    else if (key === 'committer') committer = IDENTITY.exec(value);
  }
  if (tree === undefined || !/^[0-9a-f]{40}$/.test(tree) || !author || !committer) {
    throw new PackFormatError('a commit object lacks its tree, its author or its committer');
  }
  return {
    tree,
    parents,
    author: { name: author[1] as string, email: author[2] as string },
    committedAt: Number(committer[3]),
    message: end < 0 ? '' : text.slice(end + 2),
  };
}
