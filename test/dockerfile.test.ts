import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The sources of the Dockerfile's COPY lines that read the build context (not another stage). */
async function contextCopies(): Promise<string[]> {
  const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
  return dockerfile
    .split('\n')
    .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
    .flatMap((line) => line.split(/\s+/).slice(1, -1));
}

function exists(source: string): boolean {
  if (!source.includes('*')) return existsSync(join(ROOT, source));
  const pattern = new RegExp(`^${basename(source).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
  return readdirSync(join(ROOT, dirname(source))).some((name) => pattern.test(name));
}

// The tests run without a Docker engine: the image is checked by what it is built from.
describe('the Dockerfile', () => {
  it('copies only what the repository has', async () => {
    const missing = (await contextCopies()).filter((source) => !exists(source));
    expect(missing).toEqual([]);
  });

  it('builds every folder the build compiles, and ships what the npm package ships', async () => {
    const copies = await contextCopies();
    const build = JSON.parse(await readFile(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      include: string[];
    };
    for (const folder of build.include) expect(copies, folder).toContain(folder);
    const manifest = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    for (const entry of manifest.files.filter((file) => file !== 'dist'))
      expect(
        copies.some(
          (source) => source === entry || entry.startsWith(`${source}/`) || source.startsWith(`${entry}/`),
        ),
        entry,
      ).toBe(true);
  });
});
