import { readFile } from 'node:fs/promises';

/** Whether a process `pid` exists (signal 0 only checks); one of another user counts as running. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * A process's start time in clock ticks since boot (field 22 of Linux's `/proc/<pid>/stat`), which
 * tells a pid's process from a later one that reused the pid; undefined where there is no /proc.
 */
export async function processStart(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}
