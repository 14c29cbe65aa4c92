import { execFile } from 'node:child_process';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Makes `dir` refuse writes and returns how to undo it. chmod is enough for an ordinary user; root
 * ignores permissions, so for root the directory is also made immutable (`chattr +i`). Throws when
 * the directory stays writable, so a test never passes without having tested anything.
 */
export async function makeReadOnly(dir: string): Promise<() => Promise<void>> {
  await chmod(dir, 0o555);
  let immutable = false;
  if (await writable(dir)) {
    await run('chattr', ['+i', dir]);
    immutable = true;
  }
  if (await writable(dir)) throw new Error(`cannot make ${dir} read-only on this machine`);
  return async () => {
    if (immutable) await run('chattr', ['-i', dir]);
    await chmod(dir, 0o755);
  };
}

async function writable(dir: string): Promise<boolean> {
  const probe = join(dir, '.write-probe');
  try {
    await writeFile(probe, 'probe');
    await rm(probe, { force: true });
    return true;
  } catch {
    return false;
  }
}
