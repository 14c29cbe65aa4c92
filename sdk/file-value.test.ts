import { describe, expect, it } from 'vitest';
import { decodeFileValue } from './file-value.js';

const decode = (file: string, text: string | Uint8Array) =>
  decodeFileValue(file, typeof text === 'string' ? Buffer.from(text) : text);

describe('decodeFileValue', () => {
  it('parses each file by its extension', () => {
    expect(decode('a.yaml', 'a: [1, 2]\n')).toEqual({ ok: true, value: { a: [1, 2] } });
    expect(decode('a.yml', 'a: 1\n')).toEqual({ ok: true, value: { a: 1 } });
    expect(decode('a.json', '{"a": {"b": true}}')).toEqual({ ok: true, value: { a: { b: true } } });
    expect(decode('a.properties', 'a=1\nb.c = two\n')).toEqual({ ok: true, value: { a: '1', 'b.c': 'two' } });
    expect(decode('a.ini', '[db]\nhost = x\n')).toEqual({ ok: true, value: { db: { host: 'x' } } });
    expect(decode('a.toml', 'x = 1\n[t]\ny = "z"\n')).toEqual({ ok: true, value: { x: 1, t: { y: 'z' } } });
    expect(decode('nginx.conf', 'worker_processes 4;\n')).toEqual({
      ok: true,
      value: 'worker_processes 4;\n',
    });
    expect(decode('EMPTY', '')).toEqual({ ok: true, value: '' });
    const bytes = Uint8Array.from([0, 159, 146, 150]);
    expect(decode('model.bin', bytes)).toEqual({ ok: true, value: bytes });
  });

  it('freezes parsed values, deeply, so no listener can change them for the others', () => {
    const result = decode('a.yaml', 'a:\n  b: [1]\n');
    const value = result.ok ? (result.value as { a: { b: number[] } }) : undefined;
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value?.a.b)).toBe(true);
    expect(() => value?.a.b.push(2)).toThrow(TypeError);
  });

  it('says where a file cannot be parsed', () => {
    expect(decode('a.yaml', 'a: [\n')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^cannot parse a\.yaml:\d+:\d+/),
    });
    expect(decode('a.json', '')).toMatchObject({ ok: false, reason: expect.stringContaining('empty file') });
    expect(decode('a.json', Uint8Array.from([0xff, 0xfe]))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('UTF-8'),
    });
  });

  it('parses the same bytes once per file name: clients that share bytes share the frozen value', () => {
    const bytes = Buffer.from('a: 1\n');
    const first = decodeFileValue('a.yaml', bytes);
    expect(decodeFileValue('a.yaml', bytes)).toBe(first);
    // Another name may mean another format, or another message: parsed on its own.
    expect(decodeFileValue('a.txt', bytes)).toEqual({ ok: true, value: 'a: 1\n' });
    // Equal bytes in another array are parsed again, to an equal value.
    const again = decodeFileValue('a.yaml', Buffer.from('a: 1\n'));
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});
