import { createHash } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isUnsafeTreeEntryName } from '../../core/index.js';
import { createWorkRepo, type WorkRepo } from '../../test/harness/index.js';
import {
  type GitSource,
  openGitSource,
  TreeLimitError,
  type TreeSnapshot,
  UnsafeTreeEntryError,
} from './index.js';

/** Small limits, so that drawn trees cross them too. */
const LIMITS = { maxFiles: 12, maxPathDepth: 4 };

/** A tree entry's name as raw bytes: any that git's mktree accepts (no NUL, no `/`, not empty). */
const entryName = fc
  .oneof(
    fc.constantFrom('..', '.', '.git', '.GIT', '.git.', 'git~1', '.g\u200cit', 'win\\path.yaml', 'app.yaml'),
    fc.constantFrom('x\u001b]0;PWNED\u0007y.yaml', 'con', 'trailing.', '.hidden', 'données.yaml'),
    fc.string({ minLength: 1, maxLength: 8 }),
  )
  .map((name) => Buffer.from(name))
  .chain((name) =>
    fc.oneof(
      fc.constant(name),
      fc.uint8Array({ minLength: 1, maxLength: 6 }).map((bytes) => Buffer.from(bytes)),
    ),
  )
  .map((name) => Buffer.from(name.filter((byte) => byte !== 0 && byte !== 0x2f)))
  .filter((name) => name.length > 0);

type Entry =
  | {
      readonly kind: 'file';
      readonly mode: '100644' | '100755' | '120000' | '160000';
      readonly content: string;
    }
  | { readonly kind: 'folder'; readonly entries: readonly [Buffer, Entry][] };

const file = fc.record({
  kind: fc.constant('file' as const),
  mode: fc.constantFrom('100644' as const, '100755' as const, '120000' as const, '160000' as const),
  content: fc.constantFrom('a: 1\n', '{}', '', '../../etc/passwd'),
});
const { tree } = fc.letrec<{ tree: Entry; entry: Entry }>((build) => ({
  tree: fc.record({
    kind: fc.constant('folder' as const),
    entries: fc.uniqueArray(fc.tuple(entryName, build('entry')), {
      maxLength: 5,
      selector: ([name]) => name.toString('hex'),
    }),
  }),
  entry: fc.oneof({ depthSize: 'small', withCrossShrink: true }, file, build('tree')),
}));

/** Writes `entry` as git objects (loose, hashed here, so a run costs no git process) and returns its id. */
async function writeEntry(dir: string, entry: Entry): Promise<string> {
  const write = async (type: string, body: Buffer) => {
    const data = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
    const oid = createHash('sha1').update(data).digest('hex');
    await mkdir(join(dir, '.git', 'objects', oid.slice(0, 2)), { recursive: true });
    await writeFile(join(dir, '.git', 'objects', oid.slice(0, 2), oid.slice(2)), deflateSync(data));
    return oid;
  };
  if (entry.kind === 'file') {
    // A submodule names a commit that is not in the repository, as a real one would.
    if (entry.mode === '160000') return createHash('sha1').update(entry.content).digest('hex');
    return write('blob', Buffer.from(entry.content));
  }
  const lines: Buffer[] = [];
  for (const [name, child] of entry.entries) {
    const mode = child.kind === 'folder' ? '40000' : child.mode;
    lines.push(
      Buffer.from(`${mode} `),
      name,
      Buffer.from([0]),
      Buffer.from(await writeEntry(dir, child), 'hex'),
    );
  }
  return write('tree', Buffer.concat(lines));
}

/** Whether the tree holds a regular file whose path has a name git refuses in a checkout. */
function hasUnsafeFile(entry: Entry, unsafeAbove = false): boolean {
  if (entry.kind === 'file') return unsafeAbove && (entry.mode === '100644' || entry.mode === '100755');
  return entry.entries.some(([name, child]) =>
    hasUnsafeFile(child, unsafeAbove || isUnsafeTreeEntryName(name.toString('utf8'))),
  );
}

describe('the git tree reader on trees of any names', () => {
  let author: WorkRepo;
  let source: GitSource;
  let base: string;
  let previous: TreeSnapshot;
  beforeAll(async () => {
    author = await createWorkRepo();
    await author.write({ 'app.yaml': 'a: 1\n', 'services/api/config/app.yaml': 'b: 2\n' });
    base = await author.commit('Base');
    // Read in place: objects written between runs are found without a fetch.
    source = openGitSource({
      url: author.dir,
      branch: 'main',
      cacheDir: join(author.dir, '..'),
      limits: LIMITS,
    });
    await source.fetchHead();
    previous = (await source.readTree(base)).snapshot;
  });
  afterAll(async () => {
    source?.close();
    if (author) await rm(author.dir, { recursive: true, force: true });
  });

  it('reads a tree or refuses it (an unsafe name, over a limit), never anything else, whole or as a change', async () => {
    await fc.assert(
      fc.asyncProperty(tree, async (drawn) => {
        const commitBody = `tree ${await writeEntry(author.dir, drawn)}\nparent ${base}\nauthor A <a@example.com> 0 +0000\ncommitter A <a@example.com> 0 +0000\n\nDrawn\n`;
        const data = Buffer.concat([
          Buffer.from(`commit ${Buffer.byteLength(commitBody)}\0`),
          Buffer.from(commitBody),
        ]);
        const commit = createHash('sha1').update(data).digest('hex');
        await mkdir(join(author.dir, '.git', 'objects', commit.slice(0, 2)), { recursive: true });
        await writeFile(
          join(author.dir, '.git', 'objects', commit.slice(0, 2), commit.slice(2)),
          deflateSync(data),
        );

        for (const read of [() => source.readTree(commit), () => source.readTree(commit, previous)]) {
          const outcome = await read().catch((error: unknown) => error);
          if (outcome instanceof UnsafeTreeEntryError || outcome instanceof TreeLimitError) {
            expect(outcome.path.length).toBeGreaterThan(0);
            continue;
          }
          if (outcome instanceof Error) throw outcome;
          // Read: then no file of it has a name git refuses, and it is within the limits.
          expect(hasUnsafeFile(drawn)).toBe(false);
          const paths = [...(outcome as Awaited<ReturnType<GitSource['readTree']>>).snapshot.tree.keys()];
          expect(paths.length).toBeLessThanOrEqual(LIMITS.maxFiles);
          for (const path of paths) {
            expect(path.split('/').length).toBeLessThanOrEqual(LIMITS.maxPathDepth);
            expect(path.split('/').some(isUnsafeTreeEntryName)).toBe(false);
          }
        }
      }),
      {
        numRuns: 40,
        examples: [
          // Found by a run: a folder \x80 and a file \x81 both read as U+FFFD; the change read kept
          // the file, lost the folder, and with it the `.git` file under it.
          [
            {
              kind: 'folder',
              entries: [
                [
                  Buffer.from([0x80]),
                  {
                    kind: 'folder',
                    entries: [
                      [
                        Buffer.from([0x01]),
                        {
                          kind: 'folder',
                          entries: [
                            [Buffer.from('.git'), { kind: 'file', mode: '100644', content: 'a: 1\n' }],
                          ],
                        },
                      ],
                    ],
                  },
                ],
                [Buffer.from([0x81]), { kind: 'file', mode: '100644', content: 'a: 1\n' }],
              ],
            },
          ],
        ],
      },
    );
  }, 120_000);
});
