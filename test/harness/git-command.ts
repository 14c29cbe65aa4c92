import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTempDirSync, LocalServerError } from '../../local/index.js';

const execFileAsync = promisify(execFile);

/** Identity of commits made without an explicit author, in clones as in `createWorkRepo` repositories. */
export const DEFAULT_IDENTITY = { name: 'Cairn Test', email: 'test@cairn.invalid' } as const;

let home: string | undefined;

/**
 * A HOME of the harness's own, holding the only global git configuration any harness git process
 * reads: an identity, so a commit in any clone works, and no signing. Repository-local settings
 * still win over it, as they would over a person's ~/.gitconfig.
 */
function harnessHome(): string {
  if (home) return home;
  const dir = createTempDirSync('cairn-git-home-');
  writeFileSync(
    join(dir, '.gitconfig'),
    [
      '[user]',
      `\tname = ${DEFAULT_IDENTITY.name}`,
      `\temail = ${DEFAULT_IDENTITY.email}`,
      '[commit]',
      '\tgpgsign = false',
      '[tag]',
      '\tgpgsign = false',
      '[init]',
      '\tdefaultBranch = main',
      '',
    ].join('\n'),
  );
  home = dir;
  return dir;
}

/**
 * The environment every git process of the harness runs in: the machine's and the user's git
 * configuration, hooks, credential helpers and global ignore files must not change what a test sees.
 *
 * GIT_* variables of the parent are dropped too (a test run from a git hook inherits GIT_DIR and
 * GIT_INDEX_FILE, which would redirect every command to the wrong repository).
 */
export function isolatedGitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const harnessHomeDir = harnessHome();
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('GIT_')) env[key] = value;
  }
  return {
    ...env,
    HOME: harnessHomeDir,
    XDG_CONFIG_HOME: join(harnessHomeDir, '.config'),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: join(harnessHomeDir, '.gitconfig'),
    // Never wait for a password on a terminal nobody is looking at.
    GIT_TERMINAL_PROMPT: '0',
    // Messages in English whatever the machine's locale, so a failure reads the same everywhere.
    LC_ALL: 'C',
    ...extra,
  };
}

/**
 * Runs the git CLI in `cwd` and resolves with its stdout, trimmed. A failure rejects with a
 * `LocalServerError` (GIT_COMMAND_FAILED) whose message holds the command and git's own explanation.
 */
export async function runGit(
  cwd: string,
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync('git', args, {
      cwd,
      env: isolatedGitEnv(extraEnv),
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    return stdout.trim();
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    // A string code means git never ran (its exit codes are numbers); ENOENT is git or `cwd` missing.
    if (typeof failure.code === 'string') {
      throw new LocalServerError(
        'GIT_NOT_FOUND',
        `git could not be started in ${cwd} (${failure.code}): check that the directory exists and that git is installed (scripts/install-system-deps.sh installs it).`,
        { cause: error },
      );
    }
    // git prints some refusals ("nothing to commit") on stdout.
    const explanation = (failure.stderr?.trim() || failure.stdout?.trim()) ?? failure.message;
    throw new LocalServerError(
      'GIT_COMMAND_FAILED',
      `git ${args.join(' ')} failed in ${cwd} (exit code ${String(failure.code)}): ${explanation}`,
      { cause: error },
    );
  }
}
