import { CorruptRecordError } from './record-fields.js';

/** Bytes per log chunk node: far below jute.maxbuffer, so a write never nears the limit. */
export const LOG_CHUNK_BYTES = 8 * 1024;
/** Chunks kept per host and deployment: the tail is at most LOG_CHUNK_BYTES × LOG_CHUNKS_KEPT. */
export const LOG_CHUNKS_KEPT = 8;

/**
 * `/deployments/<service>/<env>/<id>/log/<host>/<seq>`: a piece of the output of the host's deploy
 * command and health check, in order of `seq`. The agent keeps the last LOG_CHUNKS_KEPT chunks.
 */
export function encodeLogChunks(output: Uint8Array): Uint8Array[] {
  // Only what the kept chunks can hold: a 10 MB log costs as many writes as a 64 KB one.
  const max = LOG_CHUNK_BYTES * LOG_CHUNKS_KEPT;
  const tail = output.byteLength > max ? output.subarray(output.byteLength - max) : output;
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < tail.byteLength; at += LOG_CHUNK_BYTES)
    chunks.push(tail.subarray(at, at + LOG_CHUNK_BYTES));
  return chunks;
}

export function decodeLogChunk(data: Uint8Array, path?: string): Uint8Array {
  if (data.byteLength > LOG_CHUNK_BYTES)
    throw new CorruptRecordError(
      'deployment log chunk',
      path,
      `${data.byteLength} bytes is more than a chunk holds (${LOG_CHUNK_BYTES})`,
    );
  return data;
}
