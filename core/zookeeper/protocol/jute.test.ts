import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZkError } from '../zk-error.js';
import { FrameDecoder } from './frame-decoder.js';
import { JuteReader } from './jute-reader.js';
import { JuteWriter } from './jute-writer.js';
import { OpCode } from './op-codes.js';
import { readResponse } from './responses.js';

/** One jute field and its value. */
type Field =
  | { kind: 'int'; value: number }
  | { kind: 'long'; value: bigint }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'buffer'; value: Buffer }
  | { kind: 'string'; value: string }
  | { kind: 'strings'; value: string[] }
  | { kind: 'acl'; value: { perms: number; scheme: string; id: string }[] };

const field: fc.Arbitrary<Field> = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((value) => ({ kind: 'int' as const, value })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ kind: 'long' as const, value })),
  fc.boolean().map((value) => ({ kind: 'boolean' as const, value })),
  fc.uint8Array({ maxLength: 300 }).map((value) => ({ kind: 'buffer' as const, value: Buffer.from(value) })),
  fc.string({ unit: 'binary', maxLength: 80 }).map((value) => ({ kind: 'string' as const, value })),
  fc
    .array(fc.string({ maxLength: 30 }), { maxLength: 20 })
    .map((value) => ({ kind: 'strings' as const, value })),
  fc
    .array(
      fc.record({
        perms: fc.integer({ min: 0, max: 31 }),
        scheme: fc.constantFrom('world', 'digest', 'ip', 'auth'),
        id: fc.string({ maxLength: 40 }),
      }),
      { maxLength: 5 },
    )
    .map((value) => ({ kind: 'acl' as const, value })),
);

function write(writer: JuteWriter, f: Field): void {
  switch (f.kind) {
    case 'int':
      writer.int(f.value);
      break;
    case 'long':
      writer.long(f.value);
      break;
    case 'boolean':
      writer.boolean(f.value);
      break;
    case 'buffer':
      writer.buffer(f.value);
      break;
    case 'string':
      writer.string(f.value);
      break;
    case 'strings':
      writer.strings(f.value);
      break;
    case 'acl':
      writer.acl(f.value);
      break;
  }
}

function read(reader: JuteReader, kind: Field['kind']): unknown {
  switch (kind) {
    case 'int':
      return reader.int();
    case 'long':
      return reader.long();
    case 'boolean':
      return reader.boolean();
    case 'buffer':
      return reader.buffer();
    case 'string':
      return reader.string();
    case 'strings':
      return reader.strings();
    case 'acl':
      return reader.acl();
  }
}

function encode(fields: readonly Field[]): Buffer {
  const writer = new JuteWriter(8);
  for (const f of fields) write(writer, f);
  return writer.frame();
}

function expectProtocolError(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ZkError);
    expect((error as ZkError).code).toBe('PROTOCOL_ERROR');
  }
}

describe('jute codec', () => {
  it('reads back every field it writes, in order, behind the packet length', () => {
    fc.assert(
      fc.property(fc.array(field, { maxLength: 30 }), (fields) => {
        const frame = encode(fields);
        expect(frame.readInt32BE(0)).toBe(frame.length - 4);
        const reader = new JuteReader(frame, 4);
        for (const f of fields) {
          const value = read(reader, f.kind);
          // Strings are UTF-8 on the wire: lone surrogates come back as U+FFFD, as in Java.
          const expected = f.kind === 'string' ? Buffer.from(f.value).toString() : f.value;
          expect(value).toEqual(expected);
        }
        expect(reader.remaining).toBe(0);
      }),
    );
  });

  it('reads a Stat field by field, times as ms numbers', () => {
    const writer = new JuteWriter()
      .long(10n)
      .long(20n)
      .long(1_700_000_000_123n)
      .long(1_700_000_000_456n)
      .int(3)
      .int(4)
      .int(5)
      .long(0x1234n)
      .int(6)
      .int(7)
      .long(30n);
    expect(new JuteReader(writer.frame(), 4).stat()).toEqual({
      czxid: 10n,
      mzxid: 20n,
      ctime: 1_700_000_000_123,
      mtime: 1_700_000_000_456,
      version: 3,
      cversion: 4,
      aversion: 5,
      ephemeralOwner: 0x1234n,
      dataLength: 6,
      numChildren: 7,
      pzxid: 30n,
    });
  });

  it('reads null buffers and strings (length -1) as empty', () => {
    const frame = new JuteWriter().buffer(null).string(null).frame();
    const reader = new JuteReader(frame, 4);
    expect(reader.buffer()).toEqual(Buffer.alloc(0));
    expect(reader.string()).toBe('');
  });

  it('rejects every truncation of a record with PROTOCOL_ERROR, never a RangeError', () => {
    fc.assert(
      fc.property(fc.array(field, { minLength: 1, maxLength: 10 }), fc.nat(), (fields, cut) => {
        const frame = encode(fields);
        const truncated = frame.subarray(4, 4 + (cut % (frame.length - 4)));
        const reader = new JuteReader(truncated);
        let failed = false;
        try {
          for (const f of fields) read(reader, f.kind);
        } catch (error) {
          failed = true;
          expect(error).toBeInstanceOf(ZkError);
          expect((error as ZkError).code).toBe('PROTOCOL_ERROR');
        }
        expect(failed).toBe(true);
      }),
    );
  });

  it('answers garbage with PROTOCOL_ERROR whatever the reader expects', () => {
    const readers = [
      (r: JuteReader) => readResponse.connect(r),
      (r: JuteReader) => readResponse.data(r),
      (r: JuteReader) => readResponse.children(r),
      (r: JuteReader) => readResponse.acl(r),
      (r: JuteReader) => readResponse.multi(r),
      (r: JuteReader) => readResponse.watcherEvent(r),
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...readers), (bytes, readRecord) => {
        expectProtocolError(() => readRecord(new JuteReader(Buffer.from(bytes))));
      }),
    );
  });

  it('refuses a vector whose count cannot fit in the packet, before allocating it', () => {
    const frame = new JuteWriter().int(0x7fffffff).frame();
    expect(() => new JuteReader(frame, 4).strings()).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
    );
  });

  it('reads a multi answer with results and errors', () => {
    const writer = new JuteWriter();
    writer.int(OpCode.create2).boolean(false).int(0).string('/a');
    writer.long(1n).long(1n).long(0n).long(0n).int(0).int(0).int(0).long(0n).int(0).int(0).long(1n);
    writer.int(OpCode.delete).boolean(false).int(0);
    writer.int(OpCode.error).boolean(false).int(-110).int(-110);
    writer.int(-1).boolean(true).int(-1);
    const results = readResponse.multi(new JuteReader(writer.frame(), 4));
    expect(results.map((r) => r.type)).toEqual(['create', 'remove', 'error']);
    expect(results[2]).toEqual({ type: 'error', err: -110 });
  });
});

describe('FrameDecoder', () => {
  it('returns the same packets however the stream is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 10 }),
        fc.array(fc.nat({ max: 50 }), { maxLength: 40 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map((p) => new JuteWriter().buffer(p).frame()));
          const decoder = new FrameDecoder();
          const frames: Buffer[] = [];
          let at = 0;
          for (const cut of cuts) {
            const end = Math.min(at + cut, stream.length);
            frames.push(...decoder.push(stream.subarray(at, end)));
            at = end;
          }
          frames.push(...decoder.push(stream.subarray(at)));
          expect(frames.map((f) => new JuteReader(f).buffer())).toEqual(payloads.map((p) => Buffer.from(p)));
          expect(decoder.pending).toBe(0);
        },
      ),
    );
  });

  it('refuses a negative or impossible packet length', () => {
    expect(() => new FrameDecoder().push(Buffer.from([0xff, 0xff, 0xff, 0xf0]))).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
    );
    expect(() => new FrameDecoder().push(Buffer.from([0x7f, 0, 0, 0]))).toThrow(
      expect.objectContaining({ code: 'PROTOCOL_ERROR' }),
    );
  });
});
