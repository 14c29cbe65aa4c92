import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileFormat } from '../file-format.js';
import { parseSource } from './index.js';
import { MAX_NESTING_DEPTH } from './nesting.js';

const FORMATS: readonly FileFormat[] = ['yaml', 'json', 'toml', 'properties', 'ini', 'text'];

/** Text that looks like the formats' own syntax more often than random bytes would. */
const syntaxy = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '[',
        ']',
        '{',
        '}',
        ':',
        '- ',
        '"',
        "'",
        '=',
        '\n',
        '  ',
        '#',
        '&a ',
        '*a',
        '\\',
        ',',
        '---\n',
      ),
      fc.string({ maxLength: 8 }),
      fc.string({ unit: 'binary', maxLength: 4 }),
    ),
    { maxLength: 200 },
  )
  .map((parts) => Buffer.from(parts.join(''), 'utf8'));

const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 400 }), syntaxy);

function expectWellFormed(
  file: string,
  diagnostics: readonly { file: string; line: number; column: number }[],
) {
  for (const d of diagnostics) {
    expect(d.file).toBe(file);
    expect(Number.isInteger(d.line) && d.line >= 1, JSON.stringify(d)).toBe(true);
    expect(Number.isInteger(d.column) && d.column >= 1, JSON.stringify(d)).toBe(true);
  }
}

describe('every format parser on hostile bytes', () => {
  it('never throws, and every diagnostic has the file, a line and a column of at least 1', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FORMATS), anyBytes, (format, bytes) => {
        const doc = parseSource('f', bytes, format);
        expectWellFormed('f', doc.diagnostics);
        expect(doc.diagnostics.length).toBeLessThanOrEqual(51);
        // A document that parsed answers where its values are without throwing either.
        const at = doc.positionOf(['a', 0, 'b']);
        expect(at.line >= 1 && at.column >= 1).toBe(true);
      }),
      { numRuns: 600 },
    );
  });

  it('refuses nesting past the bound whatever the brackets, in bounded time', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('yaml', 'json', 'toml'),
        fc.array(fc.constantFrom('[', '{"a":', '{a: ', '- ', '[1, '), {
          minLength: 10_000,
          maxLength: 10_000,
        }),
        (format, openers) => {
          const text = (format === 'toml' ? 'a = ' : '') + openers.join('');
          const started = performance.now();
          const doc = parseSource('deep', Buffer.from(text), format as FileFormat);
          expect(doc.value).toBeUndefined();
          expect(doc.diagnostics.some((d) => d.severity === 'error')).toBe(true);
          expectWellFormed('deep', doc.diagnostics);
          expect(performance.now() - started).toBeLessThan(20_000);
        },
      ),
      { numRuns: 12 },
    );
  }, 300_000);

  it('bounds YAML aliases however they are nested', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), (levels, width) => {
        const lines = [`l0: &l0 [${Array(width).fill('x').join(', ')}]`];
        for (let i = 1; i < levels; i++)
          lines.push(
            `l${i}: &l${i} [${Array(width)
              .fill(`*l${i - 1}`)
              .join(', ')}]`,
          );
        const started = performance.now();
        const doc = parseSource('bomb.yaml', Buffer.from(lines.join('\n')), 'yaml');
        expect(performance.now() - started).toBeLessThan(10_000);
        // Either it expands within the bound or it is refused; it never expands width^levels nodes.
        if (width ** (levels - 1) > 10_000) expect(doc.value).toBeUndefined();
        expectWellFormed('bomb.yaml', doc.diagnostics);
      }),
      { numRuns: 60 },
    );
  }, 300_000);

  it('accepts every nesting up to the bound', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_NESTING_DEPTH }), (depth) => {
        const json = `${'['.repeat(depth)}${']'.repeat(depth)}`;
        expect(parseSource('ok.json', Buffer.from(json), 'json').diagnostics).toEqual([]);
        expect(parseSource('ok.yaml', Buffer.from(json), 'yaml').diagnostics).toEqual([]);
      }),
      { numRuns: 30 },
    );
  });
});
