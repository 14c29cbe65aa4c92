import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The arguments with which node runs the bench's TypeScript file `name` (in this folder) in a process of its own. */
export function benchScriptArgs(name: string): string[] {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return ['--import', tsx, fileURLToPath(new URL(`./${name}`, import.meta.url))];
}
