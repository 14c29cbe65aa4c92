import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { isolatedGitEnv } from '../harness/git-command.js';
import type { WorkRepo } from '../harness/index.js';

const execFileAsync = promisify(execFile);

/** What a hostile tree entry holds: a file's content, or a folder of files by name. */
export type HostileEntry = string | Uint8Array | { readonly folder: Readonly<Record<string, string>> };

/**
 * Commits, on top of HEAD, a tree that holds `name` inside `folder` (a `/`-separated path) as git
 * plumbing writes it: names `git add` refuses (`..`, a backslash, bytes that are not UTF-8) go in
 * as they are, as an attacker pushing straight to the branch would. Moves the branch to the new
 * commit and resolves with its sha; the index and work tree stay as they were, so the next
 * `commit()` of the work tree leaves the entry out again.
 */
export async function commitHostileEntry(
  repo: WorkRepo,
  folder: string,
  name: string | Buffer,
  entry: HostileEntry,
  message: string,
): Promise<string> {
  const git = async (args: string[], input?: string | Uint8Array): Promise<Buffer> => {
    const child = execFileAsync('git', args, {
      cwd: repo.dir,
      env: isolatedGitEnv(),
      encoding: 'buffer',
      maxBuffer: 64 * 1024 * 1024,
    });
    // A git that fails before reading its input is reported by its exit, not by an EPIPE.
    child.child.stdin?.on('error', () => undefined);
    if (input !== undefined) child.child.stdin?.end(input);
    return (await child).stdout;
  };
  const text = async (args: string[], input?: string | Uint8Array) =>
    (await git(args, input)).toString('utf8').trim();
  const blob = (content: string | Uint8Array) => text(['hash-object', '-w', '--stdin'], content);
  const mktree = (lines: readonly Buffer[]) => text(['mktree', '-z'], Buffer.concat(lines));
  const line = (mode: string, type: string, oid: string, entryName: string | Buffer) =>
    Buffer.concat([Buffer.from(`${mode} ${type} ${oid}\t`), Buffer.from(entryName), Buffer.from([0])]);
  /** The entries of the tree at `path` in HEAD, as mktree -z lines, without the one named `except`. */
  const entriesOf = async (path: string, except: string | Buffer): Promise<Buffer[]> => {
    const listing = await git(['ls-tree', '-z', `HEAD:${path}`]).catch(() => Buffer.alloc(0));
    const lines: Buffer[] = [];
    let start = 0;
    for (let end = listing.indexOf(0); end !== -1; start = end + 1, end = listing.indexOf(0, start)) {
      const record = listing.subarray(start, end);
      const tab = record.indexOf(9);
      if (Buffer.from(except).equals(record.subarray(tab + 1))) continue;
      lines.push(Buffer.concat([record, Buffer.from([0])]));
    }
    return lines;
  };

  let oid: string;
  let type: string;
  if (typeof entry === 'string' || entry instanceof Uint8Array) {
    [oid, type] = [await blob(entry), 'blob'];
  } else {
    const files = await Promise.all(
      Object.entries(entry.folder).map(async ([file, content]) =>
        line('100644', 'blob', await blob(content), file),
      ),
    );
    [oid, type] = [await mktree(files), 'tree'];
  }
  // From the folder up to the root, each tree rebuilt with its new child.
  const segments = folder === '' ? [] : folder.split('/');
  let child: { name: string | Buffer; mode: string; type: string; oid: string } = {
    name,
    mode: type === 'tree' ? '040000' : '100644',
    type,
    oid,
  };
  for (let depth = segments.length; depth >= 0; depth--) {
    const path = segments.slice(0, depth).join('/');
    const lines = await entriesOf(path, child.name);
    lines.push(line(child.mode, child.type, child.oid, child.name));
    child = { name: segments[depth - 1] ?? '', mode: '040000', type: 'tree', oid: await mktree(lines) };
  }
  const commit = await text(['commit-tree', child.oid, '-p', 'HEAD', '-m', message]);
  await text(['update-ref', 'HEAD', commit]);
  return commit;
}
