import { copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The folders the build compiles (tsconfig.build.json): everything `cairn` may load. */
const SOURCE_DIRS = ['core', 'schemas', 'cli', 'syncer', 'dashboard', 'sdk', 'agent', 'bot', 'local'];
/** A run's folder older than this was left by a run that was killed: no run lasts a day. */
const LEFT_BEHIND_MS = 24 * 60 * 60_000;

/**
 * Compiles the sources of `cairn` to plain JavaScript, file by file as the build lays them out,
 * into a fresh folder of test-artifacts/; resolves with the path of its `cli/main.js`. Processes
 * started from it load in half the CPU time of TypeScript compiled at every start, and it is made
 * from the sources of this run, so no test exercises a stale build. The folder is named `dist`, as
 * the build's is, so that the package root is found above it (cli/package-root.ts), and each run
 * has its own, so that runs at once never load each other's half-written files.
 */
export async function compileCli(): Promise<{ main: string; remove(): Promise<void> }> {
  const parent = join(PROJECT_ROOT, 'test-artifacts', 'cairn-cli');
  await mkdir(parent, { recursive: true });
  for (const name of await readdir(parent)) {
    const modified = await stat(join(parent, name)).then(
      (s) => s.mtimeMs,
      () => Date.now(),
    );
    if (Date.now() - modified > LEFT_BEHIND_MS)
      await rm(join(parent, name), { recursive: true, force: true });
  }
  const run = await mkdtemp(join(parent, 'run-'));
  const out = join(run, 'dist');
  const entries: string[] = [];
  /** Copied as they are: JSON, and the modules written in JavaScript (the agent's command launcher). */
  const copied: string[] = ['package.json'];
  for (const dir of SOURCE_DIRS) {
    for (const file of await readdir(join(PROJECT_ROOT, dir), { recursive: true })) {
      const path = join(dir, file);
      if (file.endsWith('.json') || file.endsWith('.mjs')) copied.push(path);
      else if (file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.endsWith('.d.ts'))
        entries.push(join(PROJECT_ROOT, path));
    }
  }
  await build({
    entryPoints: entries,
    outdir: out,
    outbase: PROJECT_ROOT,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The JSON imports (package.json, the schemas) keep their `with { type: 'json' }`.
    supported: { 'import-attributes': true },
    logLevel: 'error',
  });
  // What the compiled modules import or start besides each other, where the build puts it too.
  for (const path of copied) {
    await mkdir(dirname(join(out, path)), { recursive: true });
    await copyFile(join(PROJECT_ROOT, path), join(out, path));
  }
  return { main: join(out, 'cli', 'main.js'), remove: () => rm(run, { recursive: true, force: true }) };
}
