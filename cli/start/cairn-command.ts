import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { shellQuote } from './banner.js';

/**
 * How a person runs this cairn from `dir`, in words that work as printed. `npx cairn` finds the
 * project npm sees from there (the nearest folder with a package.json or node_modules): this package
 * itself, or a project that installed it. Anywhere else npx would fetch some other package of that
 * name, so the built command is named by its path.
 */
export function cairnCommand(dir: string): string {
  for (let current = dir; ; current = dirname(current)) {
    const hasPackage = existsSync(join(current, 'package.json'));
    if (hasPackage || existsSync(join(current, 'node_modules'))) {
      if (existsSync(join(current, 'node_modules', '.bin', 'cairn'))) return 'npx cairn';
      if (hasPackage && packageName(join(current, 'package.json')) === 'cairn') return 'npx cairn';
      break;
    }
    if (dirname(current) === current) break;
  }
  return `node ${shellQuote(join(packageRoot(), 'dist', 'cli', 'main.js'))}`;
}

function packageName(path: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}
