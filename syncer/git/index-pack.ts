import { spawn } from 'node:child_process';
import { once } from 'node:events';

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
  /** Gives up on the pack: git deletes what it wrote. Never rejects. */
  abandon(): Promise<void>;
}

/** The pack could not be indexed (truncated, or damaged). */
export class PackIndexError extends Error {
  readonly code = 'PackIndexError';
}

export function startPackWriter(gitdir: string, gitCommand = 'git'): PackWriter {
  const child = spawn(gitCommand, ['--git-dir', gitdir, 'index-pack', '--stdin'], {
    stdio: ['pipe', 'ignore', 'pipe'],
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
  const failure = async (): Promise<PackIndexError> => {
    const { code, error } = await exit;
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
    },
    async abandon() {
      // An early end of its input makes git delete its temporary pack and exit.
      child.stdin.end();
      await exit;
    },
  };
}
