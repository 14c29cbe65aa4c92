import type { JuteReader } from './protocol/jute-reader.js';
import { protocolError } from './protocol/jute-reader.js';
import { ErrorNumber, OpCode } from './protocol/op-codes.js';
import { writeRequest } from './protocol/requests.js';
import type { OutgoingRequest } from './server-connection.js';
import type { ZkError } from './zk-error.js';

/**
 * Reads per multiRead request. A server handles one request for all of them instead of one each
 * (for 5,000 small nodes, about a tenth of the time on the server), and the answer stays bounded:
 * a node holds at most about 1 MB (jute.maxbuffer), so an answer at most about 32 MB, well under
 * the frame decoder's limit.
 */
export const MAX_BATCHED_READS = 32;

/** Bytes of a multiRead request besides its paths: a header and a flag per read, and the end marker. */
const READ_OVERHEAD_BYTES = 14;

/**
 * Unwatched getData requests made together, sent as one multiRead (ZooKeeper 3.6+), or as a plain
 * getData when alone. Each read keeps its own OutgoingRequest: it is answered with its own error
 * number and a reader at its own GetDataResponse, in the order the reads were made; an operation
 * that failed (NO_NODE, NO_AUTH) fails its read alone. A multiRead is not atomic, but a server
 * answers it at one point of its order, as it would the same reads one after the other with nothing
 * of this session's between them: the batch is sent before any other request of the session.
 */
export class ReadBatch {
  private readonly paths: string[] = [];
  private readonly reads: OutgoingRequest[] = [];
  private pathBytes = 0;

  /** Adds a read of `path` (a server path): false when the batch is full and nothing was added. */
  add(path: string, read: OutgoingRequest): boolean {
    if (this.reads.length >= MAX_BATCHED_READS) return false;
    this.paths.push(path);
    this.reads.push(read);
    this.pathBytes += path.length * 3 + READ_OVERHEAD_BYTES;
    return true;
  }

  get size(): number {
    return this.reads.length;
  }

  get full(): boolean {
    return this.reads.length >= MAX_BATCHED_READS;
  }

  /** The request that carries the batch: its read's own for one read, a multiRead for more. */
  request(): OutgoingRequest {
    if (this.reads.length === 1) return this.reads[0] as OutgoingRequest;
    const reads = this.reads;
    return {
      opCode: OpCode.multiRead,
      write: writeRequest.multiRead(this.paths),
      sizeHint: this.pathBytes + 32,
      reply: (err, body) => answerReads(reads, err, body),
      fail: (reason: ZkError) => {
        for (const read of reads) read.fail(reason);
      },
    };
  }
}

/**
 * Hands each read its part of a MultiResponse: a MultiHeader (type, done, err), then a
 * GetDataResponse, or for a failed operation an ErrorResponse (its error number). An error of the
 * whole request is every read's. A read whose answer cannot be read throws, and the connection
 * fails what is left.
 */
function answerReads(reads: readonly OutgoingRequest[], err: number, body: JuteReader): void {
  if (err !== ErrorNumber.ok) {
    for (const read of reads) read.reply(err, body);
    return;
  }
  for (let i = 0; i < reads.length; i++) {
    const read = reads[i] as OutgoingRequest;
    const type = body.int();
    const done = body.boolean();
    body.int(); // err, repeated in the ErrorResponse body
    if (done) throw protocolError(`a multiRead answered ${i} of its ${reads.length} reads`);
    if (type === OpCode.getData) read.reply(ErrorNumber.ok, body);
    else if (type === OpCode.error) read.reply(body.int(), body);
    else throw protocolError(`operation type ${type} in a multiRead answer`);
  }
  body.int();
  if (!body.boolean()) throw protocolError(`a multiRead answered more than its ${reads.length} reads`);
  body.int();
}
