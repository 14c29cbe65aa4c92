import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runCliCaptured } from '../test/support/run-cli.js';
import { ENVIRONMENT } from './environment.js';

/** Every command and subcommand, as its words. */
const COMMANDS = [
  ['validate'],
  ['sync'],
  ['agent'],
  ['status'],
  ['get'],
  ['history'],
  ['deploy', 'status'],
  ['deploy', 'log'],
  ['deploy', 'pause'],
  ['deploy', 'resume'],
  ['deploy', 'abort'],
  ['deploy', 'retry'],
  ['deploy', 'skip'],
  ['rollback'],
  ['acl', 'init'],
  ['acl', 'add-host'],
  ['acl', 'check'],
  ['schemas'],
  ['start'],
  ['bot'],
];

/** The variables a help text names: `(env: NAME)` beside flags, and rows of its environment section. */
function namesInHelp(help: string): string[] {
  const names = [...help.matchAll(/\(env:\s+([A-Z][A-Z0-9_]*)\)/g)].map((m) => m[1] as string);
  const section = help.split(/^Environment variables.*$/m)[1] ?? '';
  names.push(...[...section.matchAll(/^ {2}([A-Z][A-Z0-9_]*) {2,}/gm)].map((m) => m[1] as string));
  return names;
}

const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

describe('environment variables', () => {
  it('are all shown by --help, each command showing those it reads', async () => {
    const everyCommand = namesInHelp((await runCliCaptured(['--help'])).stdout);
    expect(sorted(everyCommand)).toEqual(
      sorted(ENVIRONMENT.filter((v) => v.commands.includes('*')).map((v) => v.name)),
    );
    const shown = new Set(everyCommand);
    const reads = new Map<string, Set<string>>();
    for (const words of COMMANDS) {
      const command = words[0] as string;
      const help = await runCliCaptured([...words, '--help']);
      expect(help.code, words.join(' ')).toBe(0);
      const names = namesInHelp(help.stdout);
      // A variable every command reads may be shown beside a flag of one (--session-timeout) too.
      const own = names.filter((name) => !everyCommand.includes(name));
      const seen = reads.get(command) ?? new Set<string>();
      for (const name of own) seen.add(name);
      reads.set(command, seen);
      for (const name of names) shown.add(name);
    }
    // A command's subcommands together show every variable the command reads.
    for (const [command, names] of reads)
      expect(sorted(names), `cairn ${command} … --help`).toEqual(
        sorted(ENVIRONMENT.filter((v) => v.commands.includes(command)).map((v) => v.name)),
      );
    expect(sorted(shown)).toEqual(sorted(ENVIRONMENT.map((v) => v.name)));
  });

  it('are the rows of the one table in README.md', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.split(/^## Environment variables$/m)[1]?.split(/^## /m)[0] ?? '';
    const rows = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1] as string);
    expect(rows).toEqual(ENVIRONMENT.map((v) => v.name));
  });
});
