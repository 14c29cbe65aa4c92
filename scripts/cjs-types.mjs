// The declarations of dist/ once more, under dist/cjs-types/ in a folder that says "type": "commonjs":
// TypeScript then reads them as CommonJS, so a CommonJS project (module node16, say) gets types for
// require('…/sdk'), which Node.js 20.19 and later load from the ES modules themselves (require(esm)).
import { cp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const target = join(dist, 'cjs-types');

async function* declarations(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && path !== target) yield* declarations(path);
    else if (entry.isFile() && entry.name.endsWith('.d.ts')) yield path;
  }
}

await rm(target, { recursive: true, force: true });
for await (const file of declarations(dist)) {
  const copy = join(target, relative(dist, file));
  await mkdir(dirname(copy), { recursive: true });
  await cp(file, copy);
}
await writeFile(join(target, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
