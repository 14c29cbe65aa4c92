import type { TestProject } from 'vitest/node';
import { compileCli } from './support/compiled-cli.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The compiled `cli/main.js` that tests start `cairn` processes from (support/cairn-process.ts). */
    cairnCli: string;
  }
}

/** Once per run, before any test file: the `cairn` that test processes run, compiled from the sources. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cli = await compileCli();
  project.provide('cairnCli', cli.main);
  return cli.remove;
}
