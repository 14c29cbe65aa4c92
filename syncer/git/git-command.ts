import { spawn } from 'node:child_process';

/**
 * Bulk reads through the `git` command, where one is installed (the image and `cairn start` have
 * it): isomorphic-git inflates every object in JavaScript and looks for a loose object file before
 * each packed read, so reading a 10,000-file tree through it takes seconds, and git a tenth of that.
 * Each function resolves with undefined when there is no `git` command; the caller then reads
 * through isomorphic-git.
 */

/** What `listFilesWithGit` tells its caller while git lists. */
export interface ListingObserver {
  /** Each file as it is listed, counted from 0; a throw stops the listing, which rejects with it. */
  onFile?(path: string, oid: string, index: number): void;
  /** The files of one piece of git's output, after `onFile` saw each: to act on them before the rest. */
  onFiles?(files: readonly (readonly [path: string, oid: string])[]): void;
}

/**
 * The regular files (modes 100644 and 100755) of `tree`, with their blob ids, by path, as git
 * lists them. `observer` sees them while git still lists the rest (a large tree's listing is tens
 * of milliseconds): a limit is enforced as it is reached, and blobs are read while the rest is listed.
 */
export async function listFilesWithGit(
  gitdir: string,
  tree: string,
  gitCommand = 'git',
  observer: ListingObserver = {},
): Promise<[path: string, oid: string][] | undefined> {
  const child = spawn(gitCommand, ['--git-dir', gitdir, 'ls-tree', '-r', '-z', '--full-tree', tree], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const files: [string, string][] = [];
  let pending: Buffer = Buffer.alloc(0);
  let failure: unknown;
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  child.stdout.on('data', (chunk: Buffer) => {
    if (failure !== undefined) return;
    const output = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const listed = files.length;
    // Each entry: "<mode> <type> <oid>\t<path>\0"; paths are bytes, git does not quote them with -z.
    let start = 0;
    try {
      for (let end = output.indexOf(0, start); end >= 0; end = output.indexOf(0, start)) {
        // Only the path is decoded as UTF-8 (the header is ASCII, and holds no tab).
        const tab = output.indexOf(9, start);
        const modeEnd = output.indexOf(32, start);
        const typeEnd = output.indexOf(32, modeEnd + 1);
        const entryStart = start;
        start = end + 1;
        if (tab < 0 || tab > end || modeEnd < 0 || typeEnd < 0 || typeEnd > tab) continue;
        const mode = output.toString('latin1', entryStart, modeEnd);
        if (
          (mode !== '100644' && mode !== '100755') ||
          output.toString('latin1', modeEnd + 1, typeEnd) !== 'blob'
        )
          continue;
        const oid = output.toString('latin1', typeEnd + 1, tab);
        const path = output.toString('utf8', tab + 1, end);
        observer.onFile?.(path, oid, files.length);
        files.push([path, oid]);
      }
      if (files.length > listed) observer.onFiles?.(files.slice(listed));
    } catch (error) {
      failure = error;
      child.kill();
    }
    pending = output.subarray(start);
  });
  const code = await new Promise<number | null | 'missing'>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ENOENT' ? resolve('missing') : reject(error),
    );
    child.once('close', resolve);
  });
  if (code === 'missing') return undefined;
  if (failure !== undefined) throw failure;
  if (code !== 0) throw new Error(`git ls-tree ${tree} in ${gitdir} failed: ${stderr.trim()}`);
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
  /** Asks for `oids` now, ahead of `read`, which resolves once these and its own are read. */
  want(oids: readonly string[]): void;
  /** The bytes of `oid` if they were read already: what `read` is telling of, as it tells. */
  readBlob(oid: string): Uint8Array | undefined;
  /** Ends the process, reading nothing more: after a failure, instead of `read`. */
  abort(): void;
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
  let wanted = 0;
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
  const want = (oids: readonly string[]) => {
    if (oids.length === 0) return;
    wanted += oids.length;
    child.stdin.write(`${oids.join('\n')}\n`);
  };
  return {
    want,
    readBlob: (oid) => blobs.get(oid),
    abort() {
      child.stdin.destroy();
      child.kill();
    },
    async read(oids, onRead) {
      // Told at once of what was read already (ids asked for ahead), then of each next object.
      onObject = onRead;
      onRead?.(blobs.size);
      want(oids);
      child.stdin.end();
      const { code, missingCommand } = await exit;
      if (missingCommand) return undefined;
      if (parser.failure) throw new Error(`git cat-file in ${gitdir}: ${parser.failure}`);
      if (code !== 0 || blobs.size !== wanted) {
        throw new Error(
          `git cat-file in ${gitdir} exited with ${code} after ${blobs.size} of ${wanted} objects: ${stderr.trim()}`,
        );
      }
      return blobs;
    },
  };
}

/**
 * The output of `git cat-file --batch`: "<oid> <type> <size>\n<bytes>\n" per object, in order, or
 * "<oid> missing\n". git writes each blob with a write of its own, so the output arrives in pieces of
 * a kilobyte or two, and nearly every object straddles two of them: the bytes of such an object are
 * copied once, into a buffer of its own, while every object inside a piece is a view of it.
 */
export class BatchOutputParser {
  /** The start of an object that the pieces read so far do not complete. */
  private pieces: Buffer[] = [];
  private piecesLength = 0;
  /** The length of that object, header and final newline included, once its header is in. */
  private objectLength: number | undefined;
  failure: string | undefined;

  constructor(private readonly onObject: (oid: string, bytes: Uint8Array) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.piecesLength > 0) {
      if (this.objectLength === undefined) {
        // The header itself was split: it ends in this piece or a later one.
        const eol = chunk.indexOf(10);
        if (eol < 0) {
          this.keep(chunk);
          return;
        }
        const header = Buffer.concat([...this.pieces, chunk.subarray(0, eol)]);
        this.objectLength = this.piecesLength + eol + 1 + bodyLength(header, 0, header.length);
      }
      const rest = this.objectLength - this.piecesLength;
      if (rest > chunk.length) {
        this.keep(chunk);
        return;
      }
      const object = Buffer.concat([...this.pieces, chunk.subarray(0, rest)], this.objectLength);
      this.pieces = [];
      this.piecesLength = 0;
      this.objectLength = undefined;
      this.parse(object, 0);
      start = rest;
    }
    const end = this.parse(chunk, start);
    if (end < chunk.length) this.keep(chunk.subarray(end));
  }

  /** Keeps the start of an object, and its length once its header is complete. */
  private keep(piece: Buffer): void {
    this.pieces.push(piece);
    this.piecesLength += piece.length;
    if (this.objectLength === undefined && this.pieces.length === 1) {
      const eol = piece.indexOf(10);
      if (eol >= 0) this.objectLength = eol + 1 + bodyLength(piece, 0, eol);
    }
  }

  /** Hands over every complete object of `buffer` from `start`; returns where the first incomplete one starts. */
  private parse(buffer: Buffer, start: number): number {
    for (;;) {
      const eol = buffer.indexOf(10, start);
      if (eol < 0) return start;
      const body = bodyLength(buffer, start, eol);
      if (buffer.length < eol + 1 + body) return start;
      // "<40 hex> <type> <size>": the id has a fixed length, so only the rest is split.
      const oid = buffer.toString('latin1', start, start + 40);
      const typeEnd = buffer.indexOf(32, start + 41);
      const type = buffer.toString('latin1', start + 41, typeEnd < 0 || typeEnd > eol ? eol : typeEnd);
      if (type === 'missing' || typeEnd < 0 || typeEnd > eol) {
        this.failure ??= `object ${oid} is missing`;
      } else if (body === 0) {
        this.failure ??= `the header of object ${oid} names no size`;
      } else if (type === 'blob') {
        // A view of the piece it came in, not a copy: 10,000 small copies are as many buffers for
        // the garbage collector to track. A piece (at most a pipe read) lives while one of its files
        // does, so what a tree's files hold is at most what was read for them.
        this.onObject(oid, new Uint8Array(buffer.buffer, buffer.byteOffset + eol + 1, body - 1));
      } else {
        this.failure ??= `object ${oid} is a ${type}, not a blob`;
      }
      start = eol + 1 + body;
    }
  }
}

/**
 * What follows the header line `buffer[start, eol)`: the object's bytes and their newline, or nothing
 * for a missing object (a header without a size).
 */
function bodyLength(buffer: Buffer, start: number, eol: number): number {
  const space = buffer.lastIndexOf(32, eol - 1);
  if (space < start + 41) return 0;
  const size = Number(buffer.toString('latin1', space + 1, eol));
  return Number.isSafeInteger(size) && size >= 0 ? size + 1 : 0;
}
