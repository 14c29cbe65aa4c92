import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** A file read whole, with the sha256 of what follows its first line. */
export interface HashedFile {
  readonly bytes: Buffer;
  /**
   * Hex sha256 of the bytes after the first `\n`; undefined when the first chunk holds no `\n`, or
   * when `hashBody` said the body needs none.
   */
  readonly bodySha256: string | undefined;
}

/** Chunks in flight at once: the size of libuv's default thread pool, which does the reads. */
const IN_FLIGHT = 4;
const CHUNK_BYTES = 256 * 1024;
const NEWLINE = 10;

export interface HashingReadOptions {
  /**
   * Called each time the first `filled` bytes of `bytes` (the whole file's length) are all read, so
   * a caller can decode what leads the file meanwhile.
   */
  readonly onProgress?: (bytes: Buffer, filled: number) => void;
  /** Whether the body needs hashing, by the file's first line (without its `\n`); default yes. */
  readonly hashBody?: (firstLine: Buffer) => boolean;
}

/**
 * Reads a file whole in chunks, several at once, and hashes its body (everything after the first
 * line) chunk by chunk, in order, as the chunks arrive: the hash runs on this thread while the pool
 * reads the chunks after, instead of after the last one (on a cache of thousands of files, reading
 * and hashing one after the other took about twice as long). Throws the file system's errors, and a
 * `FILE_CHANGED` error when the file ends before the size it had when opened.
 */
export async function readHashingBody(path: string, options: HashingReadOptions = {}): Promise<HashedFile> {
  const { onProgress, hashBody } = options;
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const bytes = Buffer.allocUnsafeSlow(size);
    const chunks = Math.ceil(size / CHUNK_BYTES);
    const hash = createHash('sha256');
    let bodyStart: number | undefined;
    const arrived = new Array<boolean>(chunks).fill(false);
    let hashed = 0;
    // Hashes every chunk that has arrived with all those before it.
    const hashArrived = () => {
      const before = hashed;
      while (hashed < chunks && arrived[hashed]) {
        const start = hashed * CHUNK_BYTES;
        const end = Math.min(start + CHUNK_BYTES, size);
        if (hashed === 0) {
          const newline = bytes.subarray(0, end).indexOf(NEWLINE);
          const underChecksum = newline >= 0 && (hashBody?.(bytes.subarray(0, newline)) ?? true);
          bodyStart = underChecksum ? newline + 1 : undefined;
        }
        if (bodyStart !== undefined) hash.update(bytes.subarray(Math.max(start, bodyStart), end));
        hashed++;
      }
      if (hashed > before && hashed < chunks) onProgress?.(bytes, hashed * CHUNK_BYTES);
    };
    let next = 0;
    const readChunks = async () => {
      while (next < chunks) {
        const chunk = next++;
        const position = chunk * CHUNK_BYTES;
        const length = Math.min(CHUNK_BYTES, size - position);
        const { bytesRead } = await file.read(bytes, position, length, position);
        if (bytesRead !== length)
          throw Object.assign(new Error(`${path} changed while it was read (shorter than when opened)`), {
            code: 'FILE_CHANGED',
          });
        arrived[chunk] = true;
        hashArrived();
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, chunks) }, readChunks));
    return {
      bytes,
      bodySha256: size === 0 || bodyStart === undefined ? undefined : hash.digest('hex'),
    };
  } finally {
    await file.close();
  }
}
