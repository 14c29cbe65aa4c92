/**
 * git's pkt-line framing (`gitprotocol-common`): four hex digits of length (counting themselves),
 * then the payload; `0000` is a flush. The wire format of every smart-HTTP request and answer.
 */

/** A flush packet: ends a section of a request or an answer. */
export const FLUSH = '0000';

/** One packet of `text` (a line of the request, its newline included). */
export function pktLine(text: string): string {
  const length = Buffer.byteLength(text) + 4;
  return `${length.toString(16).padStart(4, '0')}${text}`;
}

/** A packet as read: its payload, or null for a flush (and the delimiters of protocol v2). */
export type Packet = Buffer | null;

/** Thrown for bytes that are not pkt-lines; `code` as isomorphic-git's own parse failures. */
export class PktLineError extends Error {
  readonly code = 'ParseError';
}

/** Reads packets from `chunks` as they arrive; a payload that lies within one chunk is a view of it, not a copy. */
export async function* readPackets(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Packet> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    pending =
      pending.length === 0
        ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
        : Buffer.concat([pending, chunk]);
    let start = 0;
    while (pending.length - start >= 4) {
      const length = parseLength(pending, start);
      if (length < 4) {
        start += 4;
        yield null;
        continue;
      }
      if (pending.length - start < length) break;
      yield pending.subarray(start + 4, start + length);
      start += length;
    }
    pending = pending.subarray(start);
  }
  if (pending.length > 0)
    throw new PktLineError(`the answer ended inside a packet (${pending.length} bytes left)`);
}

function parseLength(buffer: Buffer, start: number): number {
  const text = buffer.toString('latin1', start, start + 4);
  if (!/^[0-9a-f]{4}$/i.test(text))
    throw new PktLineError(`expected a pkt-line length, read ${JSON.stringify(text)}`);
  const length = Number.parseInt(text, 16);
  // 0001 and 0002 are protocol v2's delimiters; a length of 3 is never valid.
  if (length === 3) throw new PktLineError('a pkt-line length of 3');
  return length;
}
