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
export function readBlobsWithGit(
  gitdir: string,
  oids: readonly string[],
  onRead?: (read: number) => void,
  gitCommand = 'git',
): Promise<Map<string, Uint8Array> | undefined> {
  return startBlobReader(gitdir, gitCommand).read(oids, onRead);
}

/** A `git cat-file --batch` process started ahead of the object ids it is to read. */
export interface BlobReader {
  /**
   * Reads `oids` (once per reader), as `readBlobsWithGit` does; undefined when there is no `git`
   * command. Called with none, it only ends the process.
   */
  read(
    oids: readonly string[],
    onRead?: (read: number) => void,
  ): Promise<Map<string, Uint8Array> | undefined>;
}

/**
 * Starts `git cat-file --batch --buffer` at once, so that the process is up by the time the caller
 * has listed what to read (a tree is listed, and checked against the limits, before any file is
 * read). Every reader must be read from, with no ids if the listing failed, to end its process.
 */
export function startBlobReader(gitdir: string, gitCommand = 'git'): BlobReader {
  // --buffer: every object id is sent at once, so git need not flush its output object by object
  // (thousands of small pipe writes, each a read here).
  const child = spawn(gitCommand, ['--git-dir', gitdir, 'cat-file', '--batch', '--buffer'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const blobs = new Map<string, Uint8Array>();
  let onObject: ((read: number) => void) | undefined;
  const parser = new BatchOutputParser((oid, bytes) => {
    blobs.set(oid, bytes);
    onObject?.(blobs.size);
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  child.stdout.on('data', (chunk: Buffer) => parser.push(chunk));
  // A closed stdin (git exited early) surfaces through the exit code below.
  child.stdin.on('error', () => undefined);
  const exit = new Promise<{ code: number | null; missingCommand: boolean }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve({ code: null, missingCommand: error.code === 'ENOENT' }),
    );
    child.once('close', (code) => resolve({ code, missingCommand: false }));
  });
  return {
    async read(wanted, onRead) {
      onObject = onRead;
      child.stdin.end(wanted.length === 0 ? '' : `${wanted.join('\n')}\n`);
      const { code, missingCommand } = await exit;
      if (missingCommand) return undefined;
      if (parser.failure) throw new Error(`git cat-file in ${gitdir}: ${parser.failure}`);
      if (code !== 0 || blobs.size !== wanted.length) {
        throw new Error(
          `git cat-file in ${gitdir} exited with ${code} after ${blobs.size} of ${wanted.length} objects: ${stderr.trim()}`,
        );
      }
      return blobs;
    },
  };
}

/** The output of `git cat-file --batch`: "<oid> <type> <size>\n<bytes>\n" per object, in order. */
class BatchOutputParser {
  private pending: Buffer = Buffer.alloc(0);
  failure: string | undefined;

  constructor(private readonly onObject: (oid: string, bytes: Uint8Array) => void) {}

  push(chunk: Buffer): void {
    const buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let start = 0;
    for (;;) {
      const eol = buffer.indexOf(10, start);
      if (eol < 0) break;
      // "<40 hex> <type> <size>": the id has a fixed length, so only the rest is split.
      const oid = buffer.toString('latin1', start, start + 40);
      const typeEnd = buffer.indexOf(32, start + 41);
      const type = buffer.toString('latin1', start + 41, typeEnd < 0 || typeEnd > eol ? eol : typeEnd);
      if (type === 'missing' || typeEnd < 0 || typeEnd > eol) {
        this.failure ??= `object ${oid} is missing`;
        start = eol + 1;
        continue;
      }
      const length = Number(buffer.toString('latin1', typeEnd + 1, eol));
      if (buffer.length < eol + 1 + length + 1) break;
      if (type === 'blob') {
        // A view of the chunk it came in, not a copy: 10,000 small copies are as many buffers for
        // the garbage collector to track. A chunk (at most a pipe read) lives while one of its files
        // does, so what a tree's files hold is at most what was read for them.
        this.onObject(oid, new Uint8Array(buffer.buffer, buffer.byteOffset + eol + 1, length));
      } else {
        this.failure ??= `object ${oid} is a ${type}, not a blob`;
      }
      start = eol + 1 + length + 1;
    }
    this.pending = buffer.subarray(start);
  }
}
