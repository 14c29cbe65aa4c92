import { execFile, spawn } from 'node:child_process';

/**
 * Bulk reads through the `git` command, where one is installed (the image and `cairn start` have
 * it): isomorphic-git inflates every object in JavaScript and looks for a loose object file before
 * each packed read, so reading a 10,000-file tree through it takes seconds, and git a tenth of that.
 * Each function resolves with undefined when there is no `git` command; the caller then reads
 * through isomorphic-git.
 */

/** The regular files (modes 100644 and 100755) of `tree`, with their blob ids, by path. */
export async function listFilesWithGit(
  gitdir: string,
  tree: string,
  gitCommand = 'git',
): Promise<[path: string, oid: string][] | undefined> {
  const output = await new Promise<Buffer | undefined>((resolve, reject) => {
    execFile(
      gitCommand,
      ['--git-dir', gitdir, 'ls-tree', '-r', '-z', '--full-tree', tree],
      { encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') resolve(undefined);
        else if (error)
          reject(new Error(`git ls-tree ${tree} in ${gitdir} failed: ${stderr.toString().trim()}`));
        else resolve(stdout);
      },
    );
  });
  if (output === undefined) return undefined;
  const files: [string, string][] = [];
  // Each entry: "<mode> <type> <oid>\t<path>\0"; paths are bytes, git does not quote them with -z.
  let start = 0;
  while (start < output.length) {
    const end = output.indexOf(0, start);
    const entry = output.toString('utf8', start, end < 0 ? output.length : end);
    start = end < 0 ? output.length : end + 1;
    const tab = entry.indexOf('\t');
    const [mode, type, oid] = entry.slice(0, tab).split(' ');
    if (type === 'blob' && (mode === '100644' || mode === '100755') && oid)
      files.push([entry.slice(tab + 1), oid]);
  }
  return files;
}

/**
 * Many blobs of the repository at `gitdir`, by object id, through one `git cat-file --batch`
 * process; rejects when git fails or lacks an object.
 */
export async function readBlobsWithGit(
  gitdir: string,
  oids: readonly string[],
  onRead?: (read: number) => void,
  gitCommand = 'git',
): Promise<Map<string, Uint8Array> | undefined> {
  const wanted = oids;
  const blobs = new Map<string, Uint8Array>();
  if (wanted.length === 0) return blobs;
  // --buffer: every object id is sent at once, so git need not flush its output object by object
  // (thousands of small pipe writes, each a read here).
  const child = spawn(gitCommand, ['--git-dir', gitdir, 'cat-file', '--batch', '--buffer'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const parser = new BatchOutputParser((oid, bytes) => {
    blobs.set(oid, bytes);
    onRead?.(blobs.size);
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  child.stdout.on('data', (chunk: Buffer) => parser.push(chunk));
  // A closed stdin (git exited early) surfaces through the exit code below.
  child.stdin.on('error', () => undefined);
  child.stdin.end(`${wanted.join('\n')}\n`);
  const exit = await new Promise<{ code: number | null; missingCommand: boolean }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ code: null, missingCommand: error.code === 'ENOENT' }),
    );
    child.once('close', (code) => resolve({ code, missingCommand: false }));
  });
  if (exit.missingCommand) return undefined;
  if (parser.failure) throw new Error(`git cat-file in ${gitdir}: ${parser.failure}`);
  if (exit.code !== 0 || blobs.size !== wanted.length) {
    throw new Error(
      `git cat-file in ${gitdir} exited with ${exit.code} after ${blobs.size} of ${wanted.length} objects: ${stderr.trim()}`,
    );
  }
  return blobs;
}

/** The output of `git cat-file --batch`: "<oid> <type> <size>\n<bytes>\n" per object, in order. */
class BatchOutputParser {
  private pending: Buffer = Buffer.alloc(0);
  failure: string | undefined;

  constructor(private readonly onObject: (oid: string, bytes: Uint8Array) => void) {}

  push(chunk: Buffer): void {
    let buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      const eol = buffer.indexOf(10);
      if (eol < 0) break;
      const [oid = '', type = '', size = '0'] = buffer.toString('latin1', 0, eol).split(' ');
      if (type === 'missing') {
        this.failure ??= `object ${oid} is missing`;
        buffer = buffer.subarray(eol + 1);
        continue;
      }
      const length = Number(size);
      if (buffer.length < eol + 1 + length + 1) break;
      if (type === 'blob') {
        // A copy, so that the large chunk it came in is not kept alive by one small file.
        this.onObject(oid, new Uint8Array(buffer.subarray(eol + 1, eol + 1 + length)));
      } else {
        this.failure ??= `object ${oid} is a ${type}, not a blob`;
      }
      buffer = buffer.subarray(eol + 1 + length + 1);
    }
    this.pending = buffer;
  }
}
