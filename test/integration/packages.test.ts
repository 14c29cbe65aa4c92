import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** Dependencies of the bot, the syncer or the command line, which a service embedding the SDK never needs. */
const NOT_FOR_SERVICES = ['probot', 'isomorphic-git', 'prom-client', 'commander', 'pino'];

describe('the published packages (npm run pack:packages; needs npm run build first)', () => {
  let scratch: string;
  let out: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cairn-packages-'));
    out = join(scratch, 'tarballs');
    await run(process.execPath, [join(PROJECT_ROOT, 'scripts', 'pack-packages.mjs'), out], {
      cwd: PROJECT_ROOT,
    });
  }, 180_000);
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function unpack(tarball: string, into: string): Promise<Record<string, unknown>> {
    await mkdir(into, { recursive: true });
    await run('tar', ['-xzf', join(out, tarball), '-C', into, '--strip-components=1']);
    return JSON.parse(await readFile(join(into, 'package.json'), 'utf8'));
  }

  it('@cairn-config/sdk runs for ES module and CommonJS consumers, with its own dependencies alone', async () => {
    const consumer = join(scratch, 'service');
    const sdk = join(consumer, 'node_modules', '@cairn-config', 'sdk');
    const manifest = await unpack('cairn-config-sdk-0.1.0.tgz', sdk);
    const dependencies = Object.keys(manifest.dependencies as Record<string, string>);
    for (const name of NOT_FOR_SERVICES) expect(dependencies).not.toContain(name);
    // Only what the SDK declares is there to import: anything else it imported would fail to load.
    for (const name of [...dependencies, '@types/node'])
      await symlink(join(PROJECT_ROOT, 'node_modules', name), join(consumer, 'node_modules', name)).catch(
        async () => {
          await mkdir(join(consumer, 'node_modules', '@types'), { recursive: true });
          await symlink(join(PROJECT_ROOT, 'node_modules', name), join(consumer, 'node_modules', name));
        },
      );

    await writeFile(
      join(consumer, 'esm.mjs'),
      "import { connect, ConsistentHashRing } from '@cairn-config/sdk';\nconsole.log(typeof connect, typeof ConsistentHashRing);\n",
    );
    expect((await run(process.execPath, ['esm.mjs'], { cwd: consumer })).stdout).toBe('function function\n');

    // A CommonJS project type-checks require()'s types and runs on Node.js's require(esm).
    await writeFile(join(consumer, 'package.json'), '{"name":"service","private":true,"type":"commonjs"}\n');
    await writeFile(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          strict: true,
          outDir: 'out',
          types: ['node'],
        },
        files: ['service.ts'],
      }),
    );
    await writeFile(
      join(consumer, 'service.ts'),
      [
        "import { connect, type ConnectOptions } from '@cairn-config/sdk';",
        "const options: Pick<ConnectOptions, 'service' | 'env'> = { service: 'recommender', env: 'dev' };",
        'console.log(typeof connect, options.service);',
        '',
      ].join('\n'),
    );
    await run(process.execPath, [join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], {
      cwd: consumer,
    });
    expect((await run(process.execPath, ['out/service.js'], { cwd: consumer })).stdout).toBe(
      'function recommender\n',
    );
  });

  it('@cairn-config/cairn ships the command, the bot’s manifest, the licence and a "." export', async () => {
    const manifest = await unpack('cairn-config-cairn-0.1.0.tgz', join(scratch, 'cairn'));
    expect(manifest).toMatchObject({ name: '@cairn-config/cairn', bin: { cairn: './dist/cli/main.js' } });
    expect(manifest).not.toHaveProperty('private');
    expect(Object.keys(manifest.exports as object)).toEqual(expect.arrayContaining(['.', './sdk']));
    const { stdout } = await run('tar', ['-tzf', join(out, 'cairn-config-cairn-0.1.0.tgz')]);
    expect(stdout.split('\n')).toEqual(
      expect.arrayContaining([
        'package/LICENSE',
        'package/bot/app.yml',
        'package/bot/.env.example',
        'package/dist/cli/main.js',
        'package/dist/cjs-types/package.json',
      ]),
    );
  });
});
