import { describe, expect, it } from 'vitest';
import { JuteReader } from './protocol/jute-reader.js';
import { JuteWriter } from './protocol/jute-writer.js';
import { ErrorNumber, OpCode } from './protocol/op-codes.js';
import { requestFrame } from './protocol/requests.js';
import { readResponse } from './protocol/responses.js';
import { MAX_BATCHED_READS, ReadBatch } from './read-batch.js';
import type { OutgoingRequest } from './server-connection.js';
import { ZkError } from './zk-error.js';

/** A read that records what it was answered: its data, or its error number, or why it failed. */
function recordingRead(answers: string[]): OutgoingRequest {
  return {
    opCode: OpCode.getData,
    reply(err, body) {
      answers.push(err === ErrorNumber.ok ? readResponse.data(body).data.toString() : `error ${err}`);
    },
    fail(reason) {
      answers.push(`failed ${reason.code}`);
    },
  };
}

const STAT_FIELDS = (w: JuteWriter) =>
  w.long(1n).long(2n).long(3n).long(4n).int(0).int(0).int(0).long(0n).int(1).int(0).long(5n);

/** A MultiResponse: per operation a MultiHeader, then a GetDataResponse or an ErrorResponse. */
function multiReadAnswer(operations: (string | number)[], { end = true } = {}): JuteReader {
  const w = new JuteWriter();
  for (const operation of operations) {
    if (typeof operation === 'string') {
      w.int(OpCode.getData).boolean(false).int(0).buffer(Buffer.from(operation));
      STAT_FIELDS(w);
    } else w.int(OpCode.error).boolean(false).int(operation).int(operation);
  }
  if (end) w.int(-1).boolean(true).int(-1);
  return new JuteReader(w.frame().subarray(4));
}

function batchOf(paths: string[], answers: string[]): ReadBatch {
  const batch = new ReadBatch();
  for (const path of paths) batch.add(path, recordingRead(answers));
  return batch;
}

describe('ReadBatch', () => {
  it('sends a lone read as its own getData', () => {
    const read = recordingRead([]);
    const batch = new ReadBatch();
    batch.add('/a', read);
    expect(batch.request()).toBe(read);
  });

  it('writes one multiRead of unwatched getData operations, in the order the reads were made', () => {
    const batch = batchOf(['/a', '/b/c', '/d'], []);
    const request = batch.request();
    expect(request.opCode).toBe(OpCode.multiRead);
    const r = new JuteReader(requestFrame(7, request.opCode, request.write).subarray(4));
    expect([r.int(), r.int()]).toEqual([7, OpCode.multiRead]);
    const paths: string[] = [];
    for (;;) {
      const [type, done] = [r.int(), r.boolean()];
      r.int();
      if (done) break;
      expect(type).toBe(OpCode.getData);
      paths.push(r.string());
      expect(r.boolean()).toBe(false);
    }
    r.end('the request');
    expect(paths).toEqual(['/a', '/b/c', '/d']);
  });

  it('answers each read with its own part, in order, and a failed operation fails its read alone', () => {
    const answers: string[] = [];
    batchOf(['/a', '/gone', '/c'], answers)
      .request()
      .reply(ErrorNumber.ok, multiReadAnswer(['one', ErrorNumber.noNode, 'three']));
    expect(answers).toEqual(['one', `error ${ErrorNumber.noNode}`, 'three']);
  });

  it('gives an error of the whole request to every read', () => {
    const answers: string[] = [];
    batchOf(['/a', '/b'], answers)
      .request()
      .reply(-6, new JuteReader(Buffer.alloc(0)));
    expect(answers).toEqual(['error -6', 'error -6']);
  });

  it('fails every read with the connection', () => {
    const answers: string[] = [];
    batchOf(['/a', '/b'], answers).request().fail(new ZkError('CONNECTION_LOSS', 'gone'));
    expect(answers).toEqual(['failed CONNECTION_LOSS', 'failed CONNECTION_LOSS']);
  });

  it('calls an answer with fewer or more operations than reads a protocol error', () => {
    const fewer = batchOf(['/a', '/b'], []).request();
    expect(() => fewer.reply(ErrorNumber.ok, multiReadAnswer(['one']))).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
    );
    const more = batchOf(['/a', '/b'], []).request();
    expect(() => more.reply(ErrorNumber.ok, multiReadAnswer(['one', 'two', 'three']))).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
    );
    const unended = batchOf(['/a', '/b'], []).request();
    expect(() => unended.reply(ErrorNumber.ok, multiReadAnswer(['one', 'two'], { end: false }))).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
    );
  });

  it(`holds at most ${MAX_BATCHED_READS} reads`, () => {
    const batch = new ReadBatch();
    for (let i = 0; i < MAX_BATCHED_READS; i++) expect(batch.add(`/n${i}`, recordingRead([]))).toBe(true);
    expect(batch.full).toBe(true);
    expect(batch.add('/one-more', recordingRead([]))).toBe(false);
    expect(batch.size).toBe(MAX_BATCHED_READS);
  });
});
