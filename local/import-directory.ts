import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { LocalServerError } from './local-server-error.js';

export interface ImportOptions {
  /**
   * Where the new repository goes; it must not exist yet. It appears there only once complete (it
   * is built beside it, then renamed), so an interrupted import leaves nothing half-made under
   * that name. Default: a new temp dir.
   */
  readonly into?: string;
  /** Called as files are added: how many so far, out of how many. */
  readonly onProgress?: (added: number, total: number) => void;
}

/** Who the import commit is by, whatever git configuration the machine has. */
const IMPORT_IDENTITY = { name: 'cairn start', email: 'cairn@localhost' };

/**
 * Copies a directory of config into a new git repository on branch `main` and commits it, so a
 * plain folder (like example-config-repo/) can be mirrored. Returns the repository's path and commit.
 *
 * It runs the git command rather than isomorphic-git: `git add` indexes 10,000 files in seconds,
 * where adding them one call at a time takes minutes. Git reads the files straight from `dir` and
 * writes the working tree from its own objects, so nothing is copied twice.
 */
export async function importDirectoryAsRepo(
  dir: string,
  options: ImportOptions = {},
): Promise<{ repo: string; commit: string }> {
  const total = await countFiles(dir);
  let repo: string;
  let building: string;
  if (options.into) {
    repo = options.into;
    building = join(dirname(repo), `.${basename(repo)}.importing`);
    await mkdir(dirname(repo), { recursive: true });
    // What an interrupted import left.
    await rm(building, { recursive: true, force: true });
  } else {
    repo = await mkdtemp(join(tmpdir(), 'cairn-repo-'));
    building = repo;
  }
  await git(['init', '--quiet', '--initial-branch=main', building]);
  let added = 0;
  options.onProgress?.(0, total);
  // --verbose prints one `add '<path>'` line per file: the progress. `.git` folders are never added;
  // the directory's own .gitignore is honoured, a personal excludes file is not.
  const addArgs = [
    '-c',
    'core.excludesFile=/dev/null',
    '--git-dir',
    join(building, '.git'),
    '--work-tree',
    dir,
  ];
  await git([...addArgs, 'add', '--all', '--verbose'], {
    onLine: (line) => {
      if (line.startsWith('add ')) options.onProgress?.(++added, Math.max(total, added));
    },
  });
  await git(['-C', building, 'commit', '--quiet', '--allow-empty', '-m', `Import ${dir}`]);
  // The index points at the files of `dir`: write them into the repository and refresh it.
  await git(['-C', building, 'reset', '--quiet', '--hard']);
  const commit = (await git(['-C', building, 'rev-parse', 'HEAD'])).trim();
  if (building !== repo) await rename(building, repo);
  return { repo, commit };
}

/** Regular files under `dir`, outside `.git` folders: what `git add --all` will add, at most. */
async function countFiles(dir: string): Promise<number> {
  let count = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && !`/${entry.parentPath ?? entry.path}/`.includes('/.git/')) count++;
  }
  return count;
}

/**
 * Runs git apart from the machine's and the user's configuration (a global hook, signing or line
 * ending setting must not change what is imported) and resolves with its stdout.
 */
function git(args: readonly string[], options: { onLine?: (line: string) => void } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_AUTHOR_NAME: IMPORT_IDENTITY.name,
        GIT_AUTHOR_EMAIL: IMPORT_IDENTITY.email,
        GIT_COMMITTER_NAME: IMPORT_IDENTITY.name,
        GIT_COMMITTER_EMAIL: IMPORT_IDENTITY.email,
      },
    });
    let stdout = '';
    let stderr = '';
    createInterface({ input: child.stdout }).on('line', (line) => {
      stdout += `${line}\n`;
      options.onLine?.(line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'ENOENT'
          ? new LocalServerError('GIT_NOT_FOUND', 'git is not installed: install the Debian package `git`', {
              cause: error,
            })
          : error,
      );
    });
    child.once('close', (code) => {
      if (code === 0) resolve(stdout);
      else
        reject(
          new LocalServerError(
            'GIT_COMMAND_FAILED',
            `git ${args.join(' ')} failed with exit code ${code}: ${stderr.trim()}`,
          ),
        );
    });
  });
}
