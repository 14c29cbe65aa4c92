import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, INSTALLATION_ID, type TestApp } from '../../test/bot-e2e/test-app.js';
import { GitHub } from '../github.js';
import { writeGitNote } from './write-git-note.js';

const REF = 'refs/notes/cairn-approvals';
let app: TestApp;

afterEach(async () => {
  await app.close();
  app.github.assertNoViolations();
});

async function setUp(): Promise<GitHub> {
  app = await createTestApp();
  return new GitHub(await app.probot.auth(INSTALLATION_ID), { owner: 'northwind', repo: 'platform-config' });
}

describe('writeGitNote', () => {
  it('creates the notes ref with a first note named by the annotated commit', async () => {
    const github = await setUp();
    const target = app.repo.ref('main') as string;
    const written = await writeGitNote(github, { ref: REF, target, content: '{"a":1}\n', message: 'note' });
    expect(written.written).toBe(true);
    expect(app.repo.note(REF, target)).toBe('{"a":1}\n');
    expect(app.github.objects.get(app.repo.ref(REF) as string)).toMatchObject({
      parents: [],
      message: 'note',
    });
  });

  it("follows git's fan-out layout when the notes tree already uses it", async () => {
    const github = await setUp();
    const target = app.repo.ref('main') as string;
    const other = `${target.slice(0, 2)}${'0'.repeat(38)}`;
    // A notes tree as git writes it once there are many notes: ab/cdef… instead of abcdef….
    const blob = app.github.objects.writeBlob('older\n');
    const tree = app.github.objects.writeTreeOnBase(undefined, [
      { path: `${other.slice(0, 2)}/${other.slice(2)}`, mode: '100644', sha: blob.sha },
    ]);
    const signature = { name: 'git', email: 'git@example.com', date: '2024-12-09T09:00:00Z' };
    const commit = app.github.objects.writeCommit({
      tree: tree.sha,
      parents: [],
      message: 'older',
      author: signature,
      committer: signature,
    });
    app.repo.setRef(REF, commit.sha);

    await writeGitNote(github, { ref: REF, target, content: 'new\n', message: 'note' });
    const files = app.github.objects.files(app.repo.ref(REF) as string);
    expect([...files.keys()].sort()).toEqual(
      [`${target.slice(0, 2)}/${target.slice(2)}`, `${other.slice(0, 2)}/${other.slice(2)}`].sort(),
    );
  });

  it('keeps an existing note and reports it', async () => {
    const github = await setUp();
    const target = app.repo.ref('main') as string;
    await writeGitNote(github, { ref: REF, target, content: 'first\n', message: 'note' });
    const again = await writeGitNote(github, { ref: REF, target, content: 'second\n', message: 'note' });
    expect(again).toMatchObject({ written: false, content: 'first\n' });
  });

  it('gives up with a clear error when another writer keeps winning the race', async () => {
    const github = await setUp();
    await writeGitNote(github, {
      ref: REF,
      target: app.repo.ref('main') as string,
      content: 'x\n',
      message: 'note',
    });
    const target = app.repo.commit('other', { 'x.txt': 'x' }, 'x');
    app.github.failNext({ method: 'PATCH', path: /\/git\/refs\//, status: 422, times: 5 });
    await expect(
      writeGitNote(github, { ref: REF, target, content: 'y\n', message: 'note' }),
    ).rejects.toMatchObject({
      code: 'NOTES_REF_CONTENDED',
    });
  });
});
