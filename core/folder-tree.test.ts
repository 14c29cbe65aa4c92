import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FolderTree } from './folder-tree.js';

const segment = fc.constantFrom('a', 'b', 'a.b', 'a-b', 'B', 'services', 'x_y', 'é', 'z9');
const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/'));
const bytes = fc.integer({ min: 0, max: 3 }).map((n) => Uint8Array.of(n));

/** Drops paths that are also a folder of another path: a git tree cannot hold both. */
function asTree(entries: readonly (readonly [string, Uint8Array])[]): Map<string, Uint8Array> {
  const files = new Map(entries);
  for (const path of [...files.keys()])
    for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1))
      files.delete(path.slice(0, slash));
  return files;
}

function sorted(files: ReadonlyMap<string, Uint8Array>): [string, Uint8Array][] {
  return [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('FolderTree', () => {
  it('holds the files of a map, in path order, whatever changes it was built with', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(path, bytes), { maxLength: 30 }),
        fc.array(fc.tuple(path, fc.option(bytes, { nil: undefined })), { maxLength: 10 }),
        (initial, changes) => {
          const start = asTree(initial);
          const expected = new Map(start);
          for (const [p, b] of changes) {
            if (b === undefined) expected.delete(p);
            else expected.set(p, b);
          }
          const end = asTree([...expected]);
          for (const p of [...expected.keys()]) if (!end.has(p)) expected.delete(p);
          const written = changes.filter(([p, b]) => b !== undefined && end.has(p)) as [string, Uint8Array][];
          const removed = [...start.keys()].filter((p) => !end.has(p));

          const before = FolderTree.of(start);
          const after = before.withChanges(
            written.map(([p]) => [p, end.get(p) as Uint8Array]),
            removed,
          );

          expect([...before]).toEqual(sorted(start));
          expect([...after]).toEqual(sorted(end));
          expect([...after.keys()]).toEqual(sorted(end).map(([p]) => p));
          expect(after.size).toBe(end.size);
          for (const [p, b] of end) expect(after.get(p)).toBe(b);
          for (const p of removed) expect(after.has(p)).toBe(false);
          // Built from scratch, the same files: the same tree.
          expect([...FolderTree.of(end)]).toEqual([...after]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('builds the same tree from files in path order, in one pass, as from files in any order', () => {
    /** Every folder's own items, by name, folders as their path: what a walk and `items()` see. */
    const shape = (tree: FolderTree): unknown[] =>
      [...tree.items()].map(([name, item]) =>
        item instanceof FolderTree ? [name, item.prefix, item.size, shape(item)] : [name, item],
      );
    fc.assert(
      fc.property(fc.array(fc.tuple(path, bytes), { maxLength: 40 }), fc.boolean(), (entries, asMap) => {
        const files = asTree(entries);
        const inOrder = sorted(files);
        const shuffled = [...inOrder].reverse();
        const general = FolderTree.of(shuffled);
        const oneByOne = FolderTree.of(asMap ? new Map(inOrder) : inOrder);

        expect(shape(oneByOne)).toEqual(shape(general));
        expect([...oneByOne]).toEqual(inOrder);
        expect(oneByOne.size).toBe(files.size);
        for (const [p, b] of files) expect(oneByOne.get(p)).toBe(b);
        // It changes as any tree does, sharing what did not change.
        const [first] = inOrder;
        if (first) {
          const next = oneByOne.withChanges([], [first[0]]);
          expect([...next]).toEqual(inOrder.slice(1));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('takes files listed twice or out of order the general way', () => {
    const one = Uint8Array.of(1);
    const two = Uint8Array.of(2);
    const twice = FolderTree.of([
      ['a/b.yaml', one],
      ['a/b.yaml', two],
    ]);
    expect([...twice]).toEqual([['a/b.yaml', two]]);
    const unordered = FolderTree.of([
      ['b/c.yaml', one],
      ['a/c.yaml', two],
      ['b.yaml', one],
    ]);
    expect([...unordered.keys()]).toEqual(['a/c.yaml', 'b.yaml', 'b/c.yaml']);
    expect(FolderTree.of([]).size).toBe(0);
  });

  it('shares, by identity, every folder nothing changed under', () => {
    const one = Uint8Array.of(1);
    const tree = FolderTree.of([
      ['cairn.yaml', one],
      ['services/api/config/app.yaml', one],
      ['services/api/config/deep/more.yaml', one],
      ['services/web/config/app.yaml', one],
    ]);

    const next = tree.withChanges([['services/api/config/app.yaml', Uint8Array.of(2)]], []);

    expect(next.folder('services/web')).toBe(tree.folder('services/web'));
    expect(next.folder('services/api/config/deep')).toBe(tree.folder('services/api/config/deep'));
    expect(next.folder('services/api')).not.toBe(tree.folder('services/api'));
    expect(tree.get('services/api/config/app.yaml')).toBe(one);
    expect(next.withChanges([['cairn.yaml', one]], ['services/nothing.yaml'])).toBe(next);
  });

  it('lists a folder of its own: its files and folders by full path, in path order', () => {
    const one = Uint8Array.of(1);
    const tree = FolderTree.of([
      ['services/api/service.yaml', one],
      ['services/api/config/app.yaml', one],
      ['services/api.yaml', one],
      ['services/web/service.yaml', one],
    ]);
    const services = tree.folder('services') as FolderTree;

    expect([...services.items()].map(([name, item]) => [name, item instanceof FolderTree])).toEqual([
      ['api.yaml', false],
      ['api', true],
      ['web', true],
    ]);
    expect([...(services.folder('api') as FolderTree).keys()]).toEqual([
      'services/api/config/app.yaml',
      'services/api/service.yaml',
    ]);
    expect(tree.folder('services/none')).toBeUndefined();
    expect(services.get('services/web/service.yaml')).toBe(one);
    expect(services.get('cairn.yaml')).toBeUndefined();
  });
});
