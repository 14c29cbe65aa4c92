import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkRepo, type WorkRepo } from '../../test/harness/index.js';
import type { ObjectStore } from './object-store.js';
import { packSink } from './pack-sink.js';
import { storeFiles } from './store-files.js';

/**
 * A fetched clone is made here the way a fetch makes one: a bare repository holding packs only,
 * each written by `git pack-objects` (or by the pack sink) straight into `objects/pack`.
 */
describe('a fetched clone as isomorphic-git reads it', () => {
  let author: WorkRepo;
  const tempDirs: string[] = [];
  const commits: string[] = [];

  beforeAll(async () => {
    author = await createWorkRepo();
    for (let n = 1; n <= 3; n++) {
      await author.write({ [`services/s${n}/config/a.yaml`]: `n: ${n}\n`, 'cairn.yaml': `n: ${n}\n` });
      commits.push(await author.commit(`Commit ${n}`));
    }
  });
  afterAll(async () => {
    await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  async function emptyClone(): Promise<string> {
    const gitdir = await mkdtemp(join(tmpdir(), 'cairn-store-files-'));
    tempDirs.push(gitdir);
    await git.init({ fs, gitdir, bare: true });
    return gitdir;
  }

  /** The pack of `commit` with what it has that `since` has not, as a fetch asks for it. */
  function packOf(commit: string, since?: string): Promise<Buffer> {
    return gitWithInput(author.dir, ['pack-objects', '--revs', '--stdout', '-q'], revisions(commit, since));
  }

  /** Adds the pack of `commit` behind the back of any reader, as `git index-pack` does. */
  async function addPack(gitdir: string, commit: string, since?: string): Promise<void> {
    const base = join(gitdir, 'objects', 'pack', 'pack');
    await gitWithInput(author.dir, ['pack-objects', '--revs', '-q', base], revisions(commit, since));
  }

  const revisions = (commit: string, since?: string) => `${commit}\n${since ? `^${since}\n` : ''}`;

  const readCommit = (store: Pick<ObjectStore, 'fs' | 'gitdir' | 'cache'>, oid: string) =>
    git.readCommit({ fs: store.fs, gitdir: store.gitdir, cache: store.cache, oid });

  it('reads the commits and trees the disk holds, as a plain file system does', async () => {
    const gitdir = await emptyClone();
    await addPack(gitdir, commits[0] as string);
    await addPack(gitdir, commits[2] as string, commits[0]);
    const files = storeFiles(gitdir);
    for (const oid of commits) {
      const plain = await readCommit({ fs, gitdir, cache: {} }, oid);
      const remembered = await readCommit({ fs: files.fs, gitdir, cache: {} }, oid);
      expect(remembered).toEqual(plain);
      const tree = await git.readTree({ fs: files.fs, gitdir, oid: plain.commit.tree });
      expect(tree).toEqual(await git.readTree({ fs, gitdir, oid: plain.commit.tree }));
    }
  });

  it('lists the packs once, until it is told they changed', async () => {
    const gitdir = await emptyClone();
    await addPack(gitdir, commits[0] as string);
    const files = storeFiles(gitdir);
    const store = { fs: files.fs, gitdir, cache: {} };
    await readCommit(store, commits[0] as string);

    await addPack(gitdir, commits[1] as string, commits[0]);
    // Only this process adds packs to its clone, and says so: a pack it did not announce is unseen.
    await expect(readCommit(store, commits[1] as string)).rejects.toMatchObject({ code: 'NotFoundError' });
    files.packsChanged();
    expect((await readCommit(store, commits[1] as string)).oid).toBe(commits[1]);
  });

  it('sees at once a pack the pack sink wrote, indexed in memory or by git', async () => {
    const gitdir = await emptyClone();
    await addPack(gitdir, commits[0] as string);
    const files = storeFiles(gitdir);
    const store: ObjectStore = {
      fs: files.fs,
      gitdir,
      cache: {},
      display: 'the test clone',
      packsChanged: () => files.packsChanged(),
    };
    await readCommit(store, commits[0] as string);
    for (const [commit, since, limits] of [
      [commits[1], commits[0], undefined], // a commit's few objects: indexed in memory
      [commits[2], commits[1], { objects: 0, bytes: 0 }], // handed to git index-pack
    ] as const) {
      const sink = packSink(store, limits);
      await sink.write(await packOf(commit as string, since));
      await sink.finish();
      expect((await readCommit(store, commit as string)).oid).toBe(commit);
    }
  });

  it('reads no loose object in a clone that held none, and reads those of a clone that holds some', async () => {
    const gitdir = await emptyClone();
    await addPack(gitdir, commits[0] as string);
    const files = storeFiles(gitdir);
    const store = { fs: files.fs, gitdir, cache: {} };
    await readCommit(store, commits[0] as string);
    // A loose object appearing later is not one a fetch wrote: it is not looked for.
    await looseCopy(gitdir, commits[1] as string);
    await expect(readCommit(store, commits[1] as string)).rejects.toMatchObject({ code: 'NotFoundError' });

    // A clone made by hand, with loose objects when first read: they are read.
    const byHand = await emptyClone();
    await addPack(byHand, commits[0] as string);
    await looseCopy(byHand, commits[1] as string);
    const handFiles = storeFiles(byHand);
    expect(
      (await readCommit({ fs: handFiles.fs, gitdir: byHand, cache: {} }, commits[1] as string)).oid,
    ).toBe(commits[1]);
  });

  it('keeps no failed answer: a pack folder missing at first is listed once it is there', async () => {
    const gitdir = await mkdtemp(join(tmpdir(), 'cairn-store-files-'));
    tempDirs.push(gitdir);
    const files = storeFiles(gitdir);
    const store = { fs: files.fs, gitdir, cache: {} };
    await expect(readCommit(store, commits[0] as string)).rejects.toThrow();
    await git.init({ fs, gitdir, bare: true });
    await addPack(gitdir, commits[0] as string);
    expect((await readCommit(store, commits[0] as string)).oid).toBe(commits[0]);
  });

  it('answers a read without a path, which isomorphic-git sends to learn what it is given, with a rejection', async () => {
    const files = storeFiles(await emptyClone());
    await expect((files.fs.promises.readFile as (path?: string) => Promise<Buffer>)()).rejects.toMatchObject({
      code: 'ERR_INVALID_ARG_TYPE',
    });
  });

  /** Copies the objects of `commit` into `gitdir` as loose files, as `git unpack-objects` writes them. */
  async function looseCopy(gitdir: string, commit: string): Promise<void> {
    const scratch = await mkdtemp(join(tmpdir(), 'cairn-loose-'));
    tempDirs.push(scratch);
    await gitWithInput(scratch, ['init', '--quiet', '--bare', '.'], '');
    await gitWithInput(scratch, ['unpack-objects', '-q'], await packOf(commit));
    const objects = join(scratch, 'objects');
    for (const folder of await readdir(objects)) {
      if (!/^[0-9a-f]{2}$/.test(folder)) continue;
      await mkdir(join(gitdir, 'objects', folder), { recursive: true });
      for (const name of await readdir(join(objects, folder)))
        await rename(join(objects, folder, name), join(gitdir, 'objects', folder, name));
    }
  }
});

/** Runs git in `cwd` with `input` on its stdin and resolves with its stdout; rejects on a failure. */
function gitWithInput(cwd: string, args: readonly string[], input: string | Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    // git may exit before reading its input (git init reads none); its exit code tells what went wrong.
    child.stdin.on('error', () => undefined);
    child.once('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`git ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString().trim()}`));
    });
    child.stdin.end(input);
  });
}
