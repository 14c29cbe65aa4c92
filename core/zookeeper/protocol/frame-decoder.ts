import { protocolError } from './jute-reader.js';

/** Larger than any answer a server with the default jute.maxbuffer (1 MB) sends; a bigger length is garbage. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * Cuts one socket's byte stream into packets (each a 4-byte length, then that many bytes). One
 * decoder per socket: a partial packet left by a socket that closed never meets another's bytes.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds bytes and returns every packet they complete. Throws ZkError PROTOCOL_ERROR on an impossible length. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) return frames;
      const length = this.peekLength();
      if (length < 0 || length > MAX_FRAME_BYTES)
        throw protocolError(`packet length ${length} out of range 0..${MAX_FRAME_BYTES}`);
      if (this.buffered < 4 + length) return frames;
      frames.push(this.take(4 + length).subarray(4));
    }
  }

  /** Bytes held of a packet not yet complete. */
  get pending(): number {
    return this.buffered;
  }

  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.readInt32BE(0);
  }

  private take(bytes: number): Buffer {
    const first = this.chunks[0]!;
    let taken: Buffer;
    if (first.length >= bytes) {
      taken = first.subarray(0, bytes);
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
    } else {
      const joined = Buffer.concat(this.chunks);
      taken = joined.subarray(0, bytes);
      this.chunks = joined.length > bytes ? [joined.subarray(bytes)] : [];
    }
    this.buffered -= bytes;
    return taken;
  }
}
