import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of Cairn's package.json, whether running from source (cli/) or from the build
 * (dist/cli/; the build holds a copy of package.json for the version, which is not the root).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && basename(dir) !== 'dist') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the cairn package root');
    dir = parent;
  }
}
