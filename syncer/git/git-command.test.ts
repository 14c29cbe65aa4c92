import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentId } from '../../core/index.js';
import { createWorkRepo } from '../../test/harness/index.js';
import { BatchOutputParser, listFilesWithGit, readBlobsWithGit, startBlobReader } from './git-command.js';

const text = (bytes: Uint8Array | undefined) => Buffer.from(bytes ?? []).toString('utf8');

describe('bulk reads through the git command', () => {
  it('lists the regular files of a tree with their blob ids and reads every blob', async () => {
    const work = await createWorkRepo();
    const files: Record<string, string> = { 'same-a.yaml': 'same: 1\n', 'dir/same-b.yaml': 'same: 1\n' };
    // Enough files that git's output arrives in many chunks, one of them larger than a chunk.
    for (let i = 0; i < 300; i++) files[`services/s${i}/config/app.yaml`] = `index: ${i}\n`;
    files['big.txt'] = 'x'.repeat(300_000);
    await work.write(files);
    await work.commit('Files');
    const gitdir = join(work.dir, '.git');
    const tree = await work.git('rev-parse', 'HEAD^{tree}');

    const listed = await listFilesWithGit(gitdir, tree);
    expect(new Set(listed?.map(([path]) => path))).toEqual(new Set(Object.keys(files)));
    const oids = [...new Set(listed?.map(([, oid]) => oid))];
    expect(oids).toHaveLength(Object.keys(files).length - 1);

    const reads: number[] = [];
    const blobs = await readBlobsWithGit(gitdir, oids, (read) => reads.push(read));
    for (const [path, oid] of listed ?? []) {
      expect(text(blobs?.get(oid))).toBe(files[path]);
      expect(contentId(blobs?.get(oid) as Uint8Array)).toBe(oid);
    }
    expect(reads.at(-1)).toBe(oids.length);
  });

  it('starts the reader before the ids are known, and ends it when it is given none', async () => {
    const work = await createWorkRepo();
    await work.write({ 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 2\n' });
    const commit = await work.commit('Two files');
    const gitdir = join(work.dir, '.git');
    const reader = startBlobReader(gitdir);
    // A commit is listed by its own id: no object needs reading before git lists its tree.
    const listed = (await listFilesWithGit(gitdir, commit)) ?? [];
    expect(listed.map(([path]) => path)).toEqual(['a.yaml', 'b.yaml']);
    const blobs = await reader.read(listed.map(([, oid]) => oid));
    expect(listed.map(([, oid]) => text(blobs?.get(oid)))).toEqual(['a: 1\n', 'b: 2\n']);

    expect(await startBlobReader(gitdir).read([])).toEqual(new Map());
  });

  it('hands each piece of the listing to its observer while git lists, and the reader reads what it is given ahead', async () => {
    const work = await createWorkRepo();
    const files: Record<string, string> = {};
    // Long paths: git's listing arrives in several pieces.
    for (let i = 0; i < 1000; i++)
      files[`services/s${i}/config/${'long-name-'.repeat(8)}${i}.yaml`] = `i: ${i}\n`;
    await work.write(files);
    const commit = await work.commit('Files');
    const gitdir = join(work.dir, '.git');
    const reader = startBlobReader(gitdir);
    const pieces: number[] = [];
    const seen: string[] = [];
    const listed = await listFilesWithGit(gitdir, commit, 'git', {
      onFile: (path, _oid, index) => {
        expect(index).toBe(seen.length);
        seen.push(path);
      },
      onFiles: (piece) => {
        pieces.push(piece.length);
        reader.want(piece.map(([, oid]) => oid));
      },
    });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(listed?.map(([path]) => path)).toEqual(seen);
    const blobs = await reader.read([]);
    expect(blobs?.size).toBe(1000);
    for (const [path, oid] of listed ?? []) expect(text(blobs?.get(oid))).toBe(files[path]);
  });

  it('stops listing at the first file its observer refuses, and rejects with that error', async () => {
    const work = await createWorkRepo();
    const files: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) files[`f${String(i).padStart(4, '0')}.yaml`] = `i: ${i}\n`;
    await work.write(files);
    const commit = await work.commit('Files');
    const refusal = new Error('one too many');
    let pieces = 0;
    const listing = listFilesWithGit(join(work.dir, '.git'), commit, 'git', {
      onFile: (_path, _oid, index) => {
        if (index === 3) throw refusal;
      },
      onFiles: () => {
        pieces++;
      },
    });
    await expect(listing).rejects.toBe(refusal);
    expect(pieces).toBe(0);
  });

  it('rejects naming an object the repository lacks', async () => {
    const work = await createWorkRepo();
    await work.write({ 'a.yaml': 'a: 1\n' });
    await work.commit('One file');
    const missing = '1'.repeat(40);
    await expect(readBlobsWithGit(join(work.dir, '.git'), [missing])).rejects.toThrow(
      `object ${missing} is missing`,
    );
  });

  it('says there is no git command, so the caller reads through isomorphic-git', async () => {
    const work = await createWorkRepo();
    await work.write({ 'a.yaml': 'a: 1\n' });
    await work.commit('One file');
    const gitdir = join(work.dir, '.git');
    const tree = await work.git('rev-parse', 'HEAD^{tree}');
    const absent = '/nonexistent/git';
    expect(await listFilesWithGit(gitdir, tree, absent)).toBeUndefined();
    expect(await readBlobsWithGit(gitdir, [tree], undefined, absent)).toBeUndefined();
  });

  it('reads `git cat-file --batch` output however it is cut into pieces', () => {
    const object = fc.oneof(
      fc.record({ oid: fc.stringMatching(/^[0-9a-f]{40}$/), bytes: fc.uint8Array({ maxLength: 300 }) }),
      fc.record({ oid: fc.stringMatching(/^[0-9a-f]{40}$/), missing: fc.constant(true) }),
    );
    fc.assert(
      fc.property(
        fc.array(object, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (objects, cuts) => {
          const output = Buffer.concat(
            objects.map((o) =>
              'bytes' in o
                ? Buffer.concat([
                    Buffer.from(`${o.oid} blob ${o.bytes.length}\n`),
                    o.bytes,
                    Buffer.from('\n'),
                  ])
                : Buffer.from(`${o.oid} missing\n`),
            ),
          );
          const read: [string, number[]][] = [];
          const parser = new BatchOutputParser((oid, bytes) => read.push([oid, [...bytes]]));
          let start = 0;
          for (const cut of [...new Set(cuts.map((c) => c % (output.length + 1)))].sort((a, b) => a - b)) {
            parser.push(output.subarray(start, cut));
            start = cut;
          }
          parser.push(output.subarray(start));

          expect(read).toEqual(objects.flatMap((o) => ('bytes' in o ? [[o.oid, [...o.bytes]]] : [])));
          const missing = objects.find((o) => 'missing' in o);
          expect(parser.failure).toBe(missing ? `object ${missing.oid} is missing` : undefined);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('fails on an object that is not a blob, or a header without a size', () => {
    const tree = new BatchOutputParser(() => undefined);
    tree.push(Buffer.from(`${'a'.repeat(40)} tree 2\nxy\n`));
    expect(tree.failure).toBe(`object ${'a'.repeat(40)} is a tree, not a blob`);
    const sizeless = new BatchOutputParser(() => undefined);
    sizeless.push(Buffer.from(`${'b'.repeat(40)} blob many\n`));
    expect(sizeless.failure).toBe(`the header of object ${'b'.repeat(40)} names no size`);
  });
});
