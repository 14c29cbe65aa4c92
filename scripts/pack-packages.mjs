// Builds the two packages Cairn publishes, as tarballs in build/packages/ (or the folder given):
//   @cairn-config/cairn  everything: the cairn command (sync, agent, bot, start…), the SDK, core, schemas
//   @cairn-config/sdk    the SDK alone, for services: sdk/, core/ and schemas/ (offline mode validates
//                        a directory as the syncer does), with only the dependencies they import, so a
//                        service does not install Probot, isomorphic-git or prom-client
// The repository's own package.json stays private under the name `cairn` (taken on the registry),
// so that `npx cairn` in a clone runs this cairn. Run `npm run pack:packages`, which builds first.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(process.argv[2] ?? join(root, 'build', 'packages'));
const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const staging = await mkdtemp(join(tmpdir(), 'cairn-packages-'));

/** What every published manifest shares. */
function published(name, description, extra) {
  return {
    name,
    version: manifest.version,
    description,
    type: 'module',
    license: manifest.license,
    engines: manifest.engines,
    ...extra,
    publishConfig: { access: 'public' },
  };
}

/** `npm pack` in `dir`, into `out`; returns what npm says of the tarball. */
function pack(dir) {
  const [info] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
      cwd: dir,
      encoding: 'utf8',
    }),
  );
  return info;
}

async function copy(from, to) {
  await mkdir(dirname(to), { recursive: true });
  await cp(from, to, { recursive: true });
}

/**
 * What a built module needs: the folders of dist/ its imports reach, and the npm packages they import,
 * with the version ranges of the repository's manifest.
 */
async function needsOf(entry) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const names = new Set();
  const parts = new Set(
    Object.keys(result.metafile.inputs).map(
      (path) => relative(join(root, 'dist'), resolve(root, path)).split(sep)[0],
    ),
  );
  for (const input of Object.values(result.metafile.inputs))
    for (const { path, external } of input.imports)
      if (external && !path.startsWith('node:'))
        names.add(path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0]);
  const dependencies = Object.fromEntries(
    [...names].sort().map((name) => {
      const range = manifest.dependencies[name];
      if (!range) throw new Error(`the SDK imports ${name}, which package.json does not depend on`);
      return [name, range];
    }),
  );
  return { parts: [...parts].sort(), dependencies };
}

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
try {
  // Everything, as the repository's package.json ships it.
  const whole = join(staging, 'cairn');
  const [listing] = JSON.parse(
    execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' }),
  );
  for (const { path } of listing.files)
    if (path !== 'package.json') await copy(join(root, path), join(whole, path));
  const { bin, exports, files, dependencies } = manifest;
  await writeFile(
    join(whole, 'package.json'),
    `${JSON.stringify(published('@cairn-config/cairn', manifest.description, { bin, exports, files, dependencies }), null, 2)}\n`,
  );

  // The SDK alone: sdk/ and what it imports of core/ and schemas/, their CommonJS-typed
  // declarations, its README.
  const sdk = join(staging, 'sdk');
  const needs = await needsOf(join(root, 'dist', 'sdk', 'index.js'));
  for (const part of [...needs.parts, ...needs.parts.map((p) => `cjs-types/${p}`), 'cjs-types/package.json'])
    await copy(join(root, 'dist', part), join(sdk, 'dist', part));
  await copy(join(root, 'sdk', 'README.md'), join(sdk, 'README.md'));
  await copy(join(root, 'LICENSE'), join(sdk, 'LICENSE'));
  const entry = (part) => ({
    import: { types: `./dist/${part}/index.d.ts`, default: `./dist/${part}/index.js` },
    require: { types: `./dist/cjs-types/${part}/index.d.ts`, default: `./dist/${part}/index.js` },
  });
  await writeFile(
    join(sdk, 'package.json'),
    `${JSON.stringify(
      published(
        '@cairn-config/sdk',
        'Read and watch configuration that Cairn mirrors into ZooKeeper: typed values, change callbacks, a local cache, instance registration.',
        {
          exports: { '.': entry('sdk'), './package.json': './package.json' },
          files: ['dist', 'README.md', 'LICENSE'],
          dependencies: needs.dependencies,
        },
      ),
      null,
      2,
    )}\n`,
  );

  for (const dir of [whole, sdk]) {
    const info = pack(dir);
    const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
    process.stdout.write(
      `${info.name}@${info.version}  ${join(out, info.filename)}  ${info.entryCount} files, ${mib(info.size)} packed, ${mib(info.unpackedSize)} unpacked\n`,
    );
  }
} finally {
  await rm(staging, { recursive: true, force: true });
}
