import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { packDir, temporaryPackName } from './pack-files.js';

/**
 * A pack being written into a repository by `git index-pack --stdin`, as it arrives.
 *
 * Why a process: isomorphic-git indexes a fetched pack in JavaScript, on the event loop, after
 * holding the whole pack in memory; its fan-out table alone walks every object id 256 times. A first
 * clone of 100,000 files held the loop for 11 s, longer than a ZooKeeper session lasts. git indexes
 * the pack in another process while it streams in.
 */
export interface PackWriter {
  /** Hands git the next bytes of the pack; resolves when git can take more (backpressure). */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the pack; resolves once git has written and indexed it. Rejects with a PackIndexError. */
  finish(): Promise<void>;
  /** Gives up on the pack: what git wrote of it is removed. Never rejects. */
  abandon(): Promise<void>;
}

/** The pack could not be indexed (truncated, or damaged). */
export class PackIndexError extends Error {
  readonly code = 'PackIndexError';
}

/**
 * Starts git on a pack for `gitdir`. git writes it, and its index, under names of ours
 * (temporaryPackName), not under its own `tmp_pack_XXXXXX`, which it leaves behind when its input
 * ends early: so a pack given up on (a deadline, a damaged pack) is removed here, and one whose
 * process was killed is found by its name at the next start. Once git has indexed it, the pack and
 * then its index are renamed to `pack-<id>`: readers look for indexes, so they never see a pack
 * half there.
 */
export function startPackWriter(gitdir: string, gitCommand = 'git'): PackWriter {
  const folder = packDir(gitdir);
  const temporary = join(folder, temporaryPackName());
  const files = { pack: `${temporary}.pack`, index: `${temporary}.idx-new` };
  const child = spawn(
    gitCommand,
    ['--git-dir', gitdir, 'index-pack', '--stdin', '-o', files.index, files.pack],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    stdout += text;
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr = (stderr + text).slice(-2000);
  });
  // A closed stdin (git exited early) surfaces through the exit below.
  child.stdin.on('error', () => undefined);
  const exit = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once('error', (error) => resolve({ code: null, error }));
    child.once('close', (code) => resolve({ code }));
  });
  let exited = false;
  void exit.then(() => {
    exited = true;
  });
  const removeTemporary = () =>
    Promise.all([rm(files.pack, { force: true }), rm(files.index, { force: true })]).catch(() => {
      // What cannot be removed now is swept when the clone is next opened.
    });
  const failure = async (): Promise<PackIndexError> => {
    const { code, error } = await exit;
    await removeTemporary();
    const why =
      (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
        ? `no ${gitCommand} command: install git, which indexes every fetched pack`
        : error
          ? error.message
          : `exit code ${code}: ${stderr.trim()}`;
    return new PackIndexError(`git index-pack in ${gitdir} failed (${why})`, error ? { cause: error } : {});
  };
  return {
    async write(bytes) {
      if (exited) throw await failure();
      if (child.stdin.write(bytes)) return;
      await Promise.race([once(child.stdin, 'drain'), exit]);
      if (exited) throw await failure();
    },
    async finish() {
      child.stdin.end();
      const { code, error } = await exit;
      if (code !== 0 || error) throw await failure();
      // git names the pack it wrote: "pack\t<id>".
      const id = /^pack\t([0-9a-f]{40})$/m.exec(stdout)?.[1];
      if (id === undefined) {
        await removeTemporary();
        throw new PackIndexError(`git index-pack in ${gitdir} did not name the pack it wrote`);
      }
      try {
        await rename(files.pack, join(folder, `pack-${id}.pack`));
        await rename(files.index, join(folder, `pack-${id}.idx`));
      } catch (renameError) {
        await removeTemporary();
        throw new PackIndexError(`cannot put the pack ${id} in place in ${gitdir}`, { cause: renameError });
      }
    },
    async abandon() {
      child.stdin.end();
      await exit;
      await removeTemporary();
    },
  };
}
