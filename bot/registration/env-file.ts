import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Sets `values` in a .env file, keeping every other line (comments included) as it was; a value with
 * newlines (a PEM key) is written double-quoted with `\n`, as Probot writes it and dotenv reads it.
 * The file holds secrets, so only its owner may read it.
 */
export function updateEnvFile(path: string, values: Readonly<Record<string, string>>): void {
  const lines = existsSync(path) ? readFileSync(path, 'utf8').split('\n') : [];
  if (lines.at(-1) === '') lines.pop();
  const pending = new Map(Object.entries(values));
  const updated = lines.map((line) => {
    const name = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1];
    const value = name === undefined ? undefined : pending.get(name);
    if (name === undefined || value === undefined) return line;
    pending.delete(name);
    return assignment(name, value);
  });
  for (const [name, value] of pending) updated.push(assignment(name, value));
  writeFileSync(path, `${updated.join('\n')}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** A line Node's parseEnv (what Probot and Cairn read .env with) reads back as exactly `value`. */
function assignment(name: string, value: string): string {
  if (/^[A-Za-z0-9_./:@+-]*$/.test(value)) return `${name}=${value}`;
  // Double quotes turn `\n` into a newline and nothing else; single quotes keep everything as it is.
  if (!/["\\]/.test(value)) return `${name}="${value.replace(/\r?\n/g, '\\n')}"`;
  if (!value.includes("'")) return `${name}='${value}'`;
  throw new Error(`${name}: a value with quotes of both kinds and backslashes cannot be written to .env`);
}
