import { describe, expect, it } from 'vitest';
import { MAX_DIAGNOSTICS_PER_FILE, parseSource } from './index.js';
import { MAX_NESTING_DEPTH } from './nesting.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const parse = (file: string, text: string | Uint8Array, format: Parameters<typeof parseSource>[2]) =>
  parseSource(file, typeof text === 'string' ? bytes(text) : text, format);

describe('YAML', () => {
  it('reports a duplicate key at the line and column of the second occurrence', () => {
    const doc = parse('a.yaml', 'server:\n  port: 80\n  host: x\n  port: 81\n', 'yaml');
    expect(doc.diagnostics).toEqual([
      expect.objectContaining({
        file: 'a.yaml',
        line: 4,
        column: 3,
        rule: 'yaml/duplicate-key',
        severity: 'error',
      }),
    ]);
    expect(doc.value).toBeUndefined();
  });

  it('reports a syntax error where it happens, in one line without a code frame', () => {
    const doc = parse('a.yaml', 'a: 1\nb: @oops\nc: 3\n', 'yaml');
    expect(doc.diagnostics[0]).toMatchObject({ rule: 'yaml/syntax', line: 2 });
    expect(doc.diagnostics[0]?.message).not.toContain('\n');
  });

  it('refuses several documents in one file', () => {
    const doc = parse('a.yaml', 'a: 1\n---\nb: 2\n', 'yaml');
    expect(doc.diagnostics[0]).toMatchObject({ rule: 'yaml/multiple-documents', line: 2 });
  });

  it('stops an alias explosion instead of expanding it', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x]',
      ...'bcdefgh'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    const doc = parse('bomb.yaml', bomb, 'yaml');
    expect(doc.diagnostics.some((d) => d.severity === 'error')).toBe(true);
  });

  it('maps a value path back to its key and value positions', () => {
    const doc = parse('a.yaml', 'env:\n  prod:\n    hosts:\n      - host: x\n', 'yaml');
    expect(doc.positionOf(['env', 'prod'], 'key')).toEqual({ line: 2, column: 3 });
    expect(doc.positionOf(['env', 'prod', 'hosts', 0, 'host'])).toEqual({ line: 4, column: 15 });
    expect(doc.positionOf(['env', 'missing', 'deeper'])).toEqual({ line: 2, column: 3 });
  });
});

describe('JSON', () => {
  it('reports a syntax error at its line and column', () => {
    const doc = parse('f.json', '{\n  "a": 1,\n  "b": ,\n}\n', 'json');
    expect(doc.diagnostics[0]).toMatchObject({ rule: 'json/syntax', line: 3, column: 8 });
  });

  it('refuses comments and trailing commas, which JSON does not allow', () => {
    expect(parse('f.json', '{"a": 1,}\n', 'json').diagnostics[0]?.rule).toBe('json/syntax');
    expect(parse('f.json', '// c\n{"a": 1}\n', 'json').diagnostics[0]?.rule).toBe('json/syntax');
  });

  it('reports duplicate keys that JSON.parse would silently collapse', () => {
    const doc = parse('f.json', '{\n  "a": 1,\n  "nested": {"x": 1, "x": 2}\n}\n', 'json');
    expect(doc.diagnostics).toEqual([
      expect.objectContaining({ rule: 'json/duplicate-key', line: 3, column: 22 }),
    ]);
  });

  it('explains that an empty file is not JSON', () => {
    expect(parse('f.json', '  \n', 'json').diagnostics[0]).toMatchObject({ rule: 'json/syntax', line: 1 });
  });
});

describe('TOML', () => {
  it('reports a redefined key at its line', () => {
    const doc = parse('f.toml', 'a = 1\n[t]\nb = 2\nb = 3\n', 'toml');
    expect(doc.diagnostics[0]).toMatchObject({ rule: 'toml/syntax', line: 4 });
  });
});

describe('properties', () => {
  it('reads separators, continuation lines and unicode escapes as java.util.Properties does', () => {
    const doc = parse(
      'a.properties',
      '# c\n! c\nkey1=a\nkey2 : b\nkey3 c\nlong = one \\\n    two\nu=\\u00e9t\\u00e9\nsp\\ ace=v\n',
      'properties',
    );
    expect(doc.value).toEqual({ key1: 'a', key2: 'b', key3: 'c', long: 'one two', u: 'été', 'sp ace': 'v' });
    expect(doc.diagnostics).toEqual([]);
    expect(doc.positionOf(['long'])).toEqual({ line: 6, column: 1 });
  });

  it('warns about a duplicate key, naming the first line', () => {
    const doc = parse('a.properties', 'a=1\nb=2\na=3\n', 'properties');
    expect(doc.diagnostics).toEqual([
      expect.objectContaining({ rule: 'properties/duplicate-key', line: 3, severity: 'warning' }),
    ]);
    expect(doc.diagnostics[0]?.message).toContain('line 1');
    expect(doc.value).toEqual({ a: '3', b: '2' });
  });

  it('reports a malformed unicode escape at its line', () => {
    const doc = parse('a.properties', 'ok=1\nbad=\\u12G4\n', 'properties');
    expect(doc.diagnostics[0]).toMatchObject({ rule: 'properties/syntax', line: 2, severity: 'error' });
  });
});

describe('INI', () => {
  it('reads global keys and sections', () => {
    const doc = parse('a.ini', 'name = x\n; comment\n[db]\nhost = "db1"\nport: 5432\n', 'ini');
    expect(doc.value).toEqual({ name: 'x', db: { host: 'db1', port: '5432' } });
    expect(doc.positionOf(['db', 'port'])).toEqual({ line: 5, column: 1 });
  });

  it('reports a line that is neither section, pair nor comment', () => {
    const doc = parse('a.ini', '[db]\nhost = x\nthis is junk\n', 'ini');
    expect(doc.diagnostics).toEqual([expect.objectContaining({ rule: 'ini/syntax', line: 3, column: 1 })]);
  });
});

describe('binary and empty content', () => {
  it('refuses binary content in a structured format', () => {
    const doc = parse('a.yaml', new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]), 'yaml');
    expect(doc.diagnostics).toEqual([expect.objectContaining({ rule: 'file/not-text', line: 1, column: 1 })]);
  });

  it('refuses text that is not UTF-8 (Latin-1)', () => {
    const doc = parse('a.properties', new Uint8Array([0x61, 0x3d, 0xe9, 0x0a]), 'properties');
    expect(doc.diagnostics[0]?.rule).toBe('file/not-text');
  });

  it('carries binary text-format files as bytes, untouched', () => {
    const content = new Uint8Array([0, 1, 2, 255]);
    expect(parse('blob.bin', content, 'text').value).toBe(content);
  });

  it('treats empty YAML as null, empty properties and INI as empty maps', () => {
    expect(parse('a.yaml', '', 'yaml').value).toBeNull();
    expect(parse('a.properties', '', 'properties').value).toEqual({});
    expect(parse('a.ini', '', 'ini').value).toEqual({});
  });
});

describe('hostile files', () => {
  it('refuses JSON nested deeper than the bound at the opening past it, before its parser recurses', () => {
    const doc = parse('deep.json', `{"a":\n${'['.repeat(10_000)}`, 'json');
    expect(doc.diagnostics).toEqual([
      expect.objectContaining({
        rule: 'json/too-deep',
        line: 2,
        column: MAX_NESTING_DEPTH,
        severity: 'error',
      }),
    ]);
    expect(doc.value).toBeUndefined();
  });

  it('accepts JSON and YAML nested exactly as deep as the bound', () => {
    const json = `${'['.repeat(MAX_NESTING_DEPTH)}${']'.repeat(MAX_NESTING_DEPTH)}`;
    expect(parse('ok.json', json, 'json').diagnostics).toEqual([]);
    expect(parse('ok.yaml', json, 'yaml').diagnostics).toEqual([]);
  });

  it.each([
    ['flow lists', '['.repeat(10_000)],
    ['compact block lists', `${'- '.repeat(10_000)}x\n`],
    ['maps, one level per line', Array.from({ length: 200 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')],
  ])('refuses YAML %s nested deeper than the bound', (_, text) => {
    const doc = parse('deep.yaml', text, 'yaml');
    expect(doc.diagnostics).toEqual([expect.objectContaining({ rule: 'yaml/too-deep', severity: 'error' })]);
    expect(doc.value).toBeUndefined();
  });

  it('finds duplicate keys among 60,000 distinct ones in linear time', () => {
    const keys = Array.from({ length: 60_000 }, (_, i) => `k${i}: ${i}`);
    const started = performance.now();
    const doc = parse('many.yaml', [...keys, 'k7: again'].join('\n'), 'yaml');
    expect(doc.diagnostics).toEqual([
      expect.objectContaining({ rule: 'yaml/duplicate-key', line: 60_001, column: 1 }),
    ]);
    // yaml's own check compares every key with every earlier one: twenty times longer than this.
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 120_000);

  it('lists the first problems of a file and counts the rest in one more', () => {
    const doc = parse('dup.yaml', 'a:\n'.repeat(125_000), 'yaml');
    expect(doc.diagnostics).toHaveLength(MAX_DIAGNOSTICS_PER_FILE + 1);
    expect(doc.diagnostics.at(-1)).toMatchObject({
      rule: 'file/too-many-problems',
      severity: 'error',
      line: MAX_DIAGNOSTICS_PER_FILE + 2,
      message: expect.stringContaining(`${125_000 - 1 - MAX_DIAGNOSTICS_PER_FILE} more problems`),
    });
  });

  it('refuses a structured file over the largest limit without parsing it', () => {
    const doc = parse('big.yaml', 'key: value\n'.repeat(500_000), 'yaml');
    expect(doc.diagnostics).toEqual([
      expect.objectContaining({ rule: 'file/too-large', line: 1, column: 1 }),
    ]);
    expect(parse('big.bin', 'x'.repeat(2_000_000), 'text').diagnostics).toEqual([]);
  });
});
