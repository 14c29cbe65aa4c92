import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The page's files: plain HTML, one ES module and one stylesheet, served as they are (no build step). */
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

/** The file a path names, or undefined: read once, kept in memory. */
export class StaticFiles {
  private readonly dir = staticDir();
  private readonly cache = new Map<string, Buffer>();

  async get(path: string): Promise<{ body: Buffer; type: string } | undefined> {
    const entry = FILES[path];
    if (!entry) return undefined;
    let body = this.cache.get(entry.file);
    if (!body) {
      body = await readFile(join(this.dir, entry.file));
      this.cache.set(entry.file, body);
    }
    return { body, type: entry.type };
  }
}

/** `dashboard/static` of the package, whether running from source (dashboard/) or the build (dist/dashboard/). */
function staticDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    for (const candidate of [join(dir, 'static'), join(dir, 'dashboard', 'static')])
      if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find dashboard/static in the cairn package');
    dir = parent;
  }
}
