import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { MANIFEST_SCHEMAS } from '../../schemas/index.js';
import { type CommandContext, EXIT_OK } from '../io.js';
import { UsageError } from '../usage-error.js';

/** The file each manifest kind's schema is published as, as the example repository's modelines name them. */
const SCHEMA_FILES = {
  settings: 'cairn.schema.json',
  policy: 'policy.schema.json',
  service: 'service.schema.json',
  release: 'release.schema.json',
} as const;

/**
 * `cairn schemas --out <dir>`: writes the JSON Schemas of the manifests, so a config repository can
 * point its `$schema` modelines at them and editors validate and complete as people type.
 */
export function registerSchemas(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('schemas')
    .description('write the JSON Schemas of cairn.yaml, policy.yaml, service.yaml and release manifests')
    .requiredOption('--out <dir>', 'the folder to write them to (created if missing)')
    .addHelpText(
      'after',
      '\nThen start each manifest with a modeline, e.g.\n  # yaml-language-server: $schema=../../.cairn/schemas/service.schema.json',
    )
    .action(async (flags: { out: string }) => {
      const dir = resolve(io.cwd, flags.out);
      const existing = await stat(dir).catch(() => undefined);
      if (existing && !existing.isDirectory())
        throw new UsageError(
          `--out ${flags.out} is a file, not a folder: pass a folder (created if missing), e.g. --out .cairn/schemas`,
        );
      await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(
          `--out ${flags.out}: cannot create the folder (${error.code ?? error.message}); pass a folder you can write to`,
        );
      });
      for (const [kind, file] of Object.entries(SCHEMA_FILES)) {
        await writeFile(
          join(dir, file),
          `${JSON.stringify(MANIFEST_SCHEMAS[kind as keyof typeof SCHEMA_FILES], null, 2)}\n`,
        );
        io.stdout(`${join(flags.out, file)}\n`);
      }
      setExitCode(EXIT_OK);
    });
}
