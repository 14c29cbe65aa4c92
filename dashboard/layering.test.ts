import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DASHBOARD = join(ROOT, 'dashboard');

/** The top-level folder every relative import of `file` lands in. */
async function importedParts(file: string): Promise<string[]> {
  const source = await readFile(file, 'utf8');
  return [...source.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g)].map(
    (match) => relative(ROOT, resolve(dirname(file), match[1] as string)).split('/')[0] as string,
  );
}

it('reads ZooKeeper through core’s readers, never through the command line’s modules', async () => {
  const files = (await readdir(DASHBOARD, { recursive: true }))
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .map((name) => join(DASHBOARD, name));
  expect(files.length).toBeGreaterThan(3);
  const parts = new Set((await Promise.all(files.map(importedParts))).flat());
  expect(parts).toContain('core');
  expect(parts).not.toContain('cli');
});
