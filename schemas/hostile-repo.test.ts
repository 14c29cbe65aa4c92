import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { exampleTree } from '../test/support/example-repo.js';
import { validateRepo } from './validate-repo.js';

/** A path segment as an attacker would name it: layout names, traversal, controls, odd code points. */
const segment = fc.oneof(
  fc.constantFrom(
    '..',
    '.',
    '',
    'config',
    '@prod',
    '@nowhere',
    'releases',
    'service.yaml',
    'win\\path.yaml',
    'nul',
  ),
  fc.constantFrom(
    'x\u001b]0;PWNED\u0007\u001b[2Jy.yaml',
    'f\ufffd.yml',
    'a.json',
    'b.toml',
    'c.ini',
    'd.properties',
  ),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);
/** Neither git nor a directory gives an entry with an empty path; anything else can come. */
const path = fc
  .oneof(
    fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => segments.join('/')),
    fc
      .tuple(
        fc.constantFrom('recommender', 'search-api', 'Bad_Name', ''),
        fc.array(segment, { maxLength: 3 }),
        segment,
      )
      .map(([service, folders, file]) => ['services', service, 'config', ...folders, file].join('/')),
    fc.constantFrom(
      'cairn.yaml',
      'policy.yaml',
      'services/recommender/service.yaml',
      'services/search-api/releases/prod.yaml',
    ),
  )
  .filter((p) => p !== '');
const content = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string({ maxLength: 300 }).map((text) => Buffer.from(text)),
  fc
    .constantFrom('[[[[', 'a: &a [*a]', '{"a": 1, "a": 2}', 'apiVersion: cairn/v1\n', '---\n---\n')
    .map((t) => Buffer.from(t)),
);

describe('the validator on hostile repositories', () => {
  let example: Map<string, Uint8Array>;
  beforeAll(async () => {
    example = await exampleTree();
  });

  it('never throws, and every diagnostic has a file, a line and a column of at least 1', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.tuple(path, content), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        (fromExample, files, removals) => {
          const tree = new Map(fromExample ? example : []);
          const paths = [...tree.keys()];
          for (const index of removals) tree.delete(paths[index % Math.max(1, paths.length)] as string);
          for (const [file, bytes] of files) tree.set(file, bytes);
          const { diagnostics } = validateRepo(tree);
          for (const d of diagnostics) {
            expect(typeof d.file === 'string' && d.file.length > 0, JSON.stringify(d)).toBe(true);
            expect(Number.isInteger(d.line) && d.line >= 1, JSON.stringify(d)).toBe(true);
            expect(Number.isInteger(d.column) && d.column >= 1, JSON.stringify(d)).toBe(true);
          }
          // A hostile name or content is never waved through: whatever was added beside the
          // example, a name the validator finds unsafe is an error at that name.
          for (const [file] of files) {
            // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
            if (/[\u0000-\u001f\\]|\ufffd|(^|\/)\.\.?(\/|$)/u.test(file)) {
              expect(
                diagnostics.some((d) => d.file === file && d.severity === 'error'),
                file,
              ).toBe(true);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  }, 300_000);
});
