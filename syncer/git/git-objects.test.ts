import { describe, expect, it } from 'vitest';
import { UnsafeTreeEntryError } from './errors.js';
import { parseCommit, parseTree } from './git-objects.js';

const OID_A = 'a'.repeat(40);
const OID_B = 'b'.repeat(40);

/** A tree object of `entries`, each `[octal mode, name as bytes or text, id]`, as git writes it. */
function treeOf(entries: readonly [mode: string, name: string | Buffer, oid: string][]): Buffer {
  return Buffer.concat(
    entries.flatMap(([mode, name, oid]) => [
      Buffer.from(`${mode} `),
      Buffer.from(name),
      Buffer.from([0]),
      Buffer.from(oid, 'hex'),
    ]),
  );
}

describe('parseTree', () => {
  it('reads each entry, with modes as git reads them', () => {
    const entries = parseTree(
      treeOf([
        ['40000', 'config', OID_A],
        ['100644', 'a.yaml', OID_B],
        ['100755', 'run.sh', OID_A],
        // Written by git before 2006; git reads it as a plain file.
        ['100664', 'old.yaml', OID_B],
        ['100744', 'owner-exec.sh', OID_B],
        ['120000', 'link', OID_A],
        ['160000', 'module', OID_B],
        ['170000', 'odd', OID_A],
      ]),
    );
    expect(Object.fromEntries(entries)).toEqual({
      config: { mode: '040000', type: 'tree', oid: OID_A },
      'a.yaml': { mode: '100644', type: 'blob', oid: OID_B },
      'run.sh': { mode: '100755', type: 'blob', oid: OID_A },
      'old.yaml': { mode: '100644', type: 'blob', oid: OID_B },
      'owner-exec.sh': { mode: '100755', type: 'blob', oid: OID_B },
      link: { mode: '120000', type: 'blob', oid: OID_A },
      module: { mode: '160000', type: 'commit', oid: OID_B },
      odd: { mode: '160000', type: 'commit', oid: OID_A },
    });
  });

  it('refuses a name no checkout may hold, naming its path', () => {
    for (const name of ['..', '.git', '.GIT.', 'a/b', '', 'a\\b', Buffer.from([0x61, 0xff])]) {
      let thrown: unknown;
      try {
        parseTree(treeOf([['100644', name, OID_A]]), 'services/api/');
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UnsafeTreeEntryError);
      expect((thrown as UnsafeTreeEntryError).path).toBe(
        `services/api/${Buffer.from(name).toString('utf8')}`,
      );
    }
  });

  it('refuses a tree that ends inside an entry', () => {
    const whole = treeOf([['100644', 'a.yaml', OID_A]]);
    for (const cut of [3, 10, whole.length - 1]) {
      expect(() => parseTree(whole.subarray(0, cut))).toThrow(/ends inside an entry/);
    }
  });
});

describe('parseCommit', () => {
  it('reads the tree, the parents, the author, the commit time and the message, past a signature', () => {
    const commit = Buffer.from(
      [
        `tree ${OID_A}`,
        `parent ${OID_B}`,
        `parent ${OID_A}`,
        'author Ada Lovelace <ada@example.com> 1700000000 +0100',
        'committer Grace Hopper <grace@example.com> 1700000100 -0500',
        'gpgsig -----BEGIN PGP SIGNATURE-----',
        ' ',
        ' iQEzBAABCAAdFiEE',
        ' -----END PGP SIGNATURE-----',
        '',
        'Merge the rules',
        '',
        'Ünïcode body.',
        '',
      ].join('\n'),
    );
    expect(parseCommit(commit)).toEqual({
      tree: OID_A,
      parents: [OID_B, OID_A],
      author: { name: 'Ada Lovelace', email: 'ada@example.com' },
      committedAt: 1700000100,
      message: 'Merge the rules\n\nÜnïcode body.\n',
    });
  });

  it('refuses a commit without its tree or its committer', () => {
    expect(() =>
      parseCommit(Buffer.from('author A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nm\n')),
    ).toThrow(/lacks its tree/);
    expect(() => parseCommit(Buffer.from(`tree ${OID_A}\nauthor A <a@b> 1 +0000\n\nm\n`))).toThrow(
      /committer/,
    );
  });
});
