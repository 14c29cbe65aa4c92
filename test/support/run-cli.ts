import { fileURLToPath } from 'node:url';
import { runCli } from '../../cli/program.js';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `cairn …` in-process and returns its exit status and what it printed. */
export async function runCliCaptured(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (chunk) => {
      stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    },
    stderr: (text) => {
      stderr += text;
    },
    cwd: PROJECT_ROOT,
    env,
  });
  return { code, stdout, stderr };
}
