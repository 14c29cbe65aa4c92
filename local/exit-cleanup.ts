import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What must not outlive this process: JVMs and other children, and temp directories.
 *
 * A test that fails before its `afterAll`, or a runner that tears a worker down, would otherwise
 * leave ZooKeeper JVMs holding ports and memory on a 2-core machine until someone notices. The state
 * lives on `globalThis` because a runner may evaluate this module several times in one process, and
 * one set of listeners must see every child.
 */
interface ExitCleanupState {
  readonly children: Set<ChildProcess>;
  readonly tempDirs: Set<string>;
  /** Graceful shutdowns registered with `onShutdownSignal`, which the first signal goes to. */
  readonly shutdownListeners: Set<(signal: NodeJS.Signals) => void>;
  /** When the first signal arrived, once one has. */
  firstSignalAt?: number;
}

const stateKey = Symbol.for('cairn.local.exit-cleanup');
const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;
/**
 * A signal this soon after the first is the same request: a terminal sends Ctrl-C's SIGINT to every
 * process of its foreground group, and npm forwards the one it got to its script as well.
 */
const REPEAT_WINDOW_MS = 1_000;

function state(): ExitCleanupState {
  const holder = globalThis as typeof globalThis & { [stateKey]?: ExitCleanupState };
  let current = holder[stateKey];
  if (!current) {
    current = { children: new Set(), tempDirs: new Set(), shutdownListeners: new Set() };
    holder[stateKey] = current;
    const registered = current;
    process.on('exit', () => cleanUpNow(registered));
    // A runner stops its workers with SIGTERM (vitest does), and a person with Ctrl-C: the default
    // action of both ends the process without an 'exit' event. Unless a graceful shutdown takes the
    // signal, clean up, then let the signal take its default course (this listener is gone by then)
    // so the exit status still tells the truth.
    const onSignal = (signal: NodeJS.Signals): void => {
      const now = Date.now();
      if (registered.shutdownListeners.size > 0) {
        if (registered.firstSignalAt === undefined) {
          registered.firstSignalAt = now;
          for (const listener of registered.shutdownListeners) listener(signal);
          return;
        }
        if (now - registered.firstSignalAt < REPEAT_WINDOW_MS) return;
      }
      cleanUpNow(registered);
      for (const each of SIGNALS) process.removeListener(each, onSignal);
      process.kill(process.pid, signal);
    };
    for (const signal of SIGNALS) process.on(signal, onSignal);
  }
  return current;
}

/**
 * Hands the first SIGTERM, SIGINT or SIGHUP to `listener`, for a graceful shutdown: children keep
 * running until it stops them, and the process should then end by itself (an 'exit' still removes
 * whatever is left). A further signal, a second or more later, ends the process at once as if no
 * listener were registered: a person's second Ctrl-C. Returns a function that removes the listener.
 */
export function onShutdownSignal(listener: (signal: NodeJS.Signals) => void): () => void {
  const { shutdownListeners } = state();
  shutdownListeners.add(listener);
  return () => {
    shutdownListeners.delete(listener);
  };
}

/** Synchronous, as an 'exit' listener must be: signal the children, delete the directories. */
function cleanUpNow({ children, tempDirs }: ExitCleanupState): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
  for (const dir of tempDirs) {
    try {
      // A just-killed JVM may still be writing for a moment: retry on ENOTEMPTY and friends.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
    } catch (error) {
      process.stderr.write(`cairn: could not remove ${dir}: ${String(error)}\n`);
    }
  }
  tempDirs.clear();
}

/** Kills `child` when this process exits, unless it has exited by then. */
export function killOnExit(child: ChildProcess): void {
  const { children } = state();
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** A fresh directory under the OS temp dir, removed when the process exits if nobody removed it before. */
export async function createTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  state().tempDirs.add(dir);
  return dir;
}

/** `createTempDir` for the rare caller that cannot await. */
export function createTempDirSync(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  state().tempDirs.add(dir);
  return dir;
}

/** Removes a directory made by `createTempDir` now rather than at exit. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  state().tempDirs.delete(dir);
}
