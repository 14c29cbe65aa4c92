import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Once per run, before any test file: a temp directory of the run's own, made the TMPDIR of every
 * worker and of every process the tests start, and removed when the run ends.
 *
 * Tests remove what they make (or leave it to `createTempDir`'s removal at exit), but a runner stops
 * its workers with SIGTERM and SIGKILLs any still there half a second later: a worker still
 * removing a large repository then, or a test that failed before its cleanup, left directories in
 * the machine's /tmp at every run. Both projects name this setup; the first to run makes the
 * directory, the last to end removes it.
 */
interface RunTempRoot {
  readonly dir: string;
  readonly previous: string | undefined;
  users: number;
}

const key = Symbol.for('cairn.test.temp-root');

export default function setup(): () => void {
  const holder = globalThis as typeof globalThis & { [key]?: RunTempRoot };
  let root = holder[key];
  if (!root) {
    root = { dir: mkdtempSync(join(tmpdir(), 'cairn-test-run-')), previous: process.env.TMPDIR, users: 0 };
    // As /tmp is: processes the tests start as another user (nginx in a namespace of its own) reach
    // and make their files in it too.
    chmodSync(root.dir, 0o1777);
    holder[key] = root;
    process.env.TMPDIR = root.dir;
  }
  root.users++;
  const used = root;
  return () => {
    if (--used.users > 0) return;
    delete holder[key];
    if (used.previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = used.previous;
    rmSync(used.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  };
}
