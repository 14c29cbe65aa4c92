import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** Debian's python3-kazoo is installed for the system's Python, not for others on PATH. */
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./zookeeper-floor.py', import.meta.url));

/** Milliseconds of one sample of each way zookeeper-floor.py reads the nodes (see there). */
export interface ZooKeeperFloor {
  readonly pipelined: number;
  readonly multiRead: number;
  readonly kazoo: number;
}

/**
 * What the server alone takes to serve reads of `paths` on a new session, measured by
 * zookeeper-floor.py in a process of its own (timed inside it, so the interpreter's start is not
 * counted): undefined when the system's Python or python3-kazoo is missing.
 */
export async function zooKeeperFloor(
  connectString: string,
  paths: readonly string[],
  scratch: string,
): Promise<ZooKeeperFloor | undefined> {
  if (!existsSync(PYTHON)) return undefined;
  const file = join(scratch, 'floor-paths.txt');
  await writeFile(file, `${paths.join('\n')}\n`);
  try {
    const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, connectString, file, '1'], {
      timeout: 120_000,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ZooKeeperFloor;
  } catch (error) {
    process.stderr.write(`the ZooKeeper floor was not measured: ${(error as Error).message}\n`);
    return undefined;
  }
}
