import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { createTempDir } from '../../local/index.js';
import { DEFAULT_IDENTITY, runGit } from './git-command.js';
import type { GitServer } from './git-server.js';

/** A non-bare repository in a temp dir, driven by the real git CLI: what a person edits and pushes. */
export interface WorkRepo {
  /** The work tree. */
  readonly dir: string;
  /**
   * Writes files by path relative to the work tree (`/`-separated), creating parent directories;
   * `null` deletes the file. Nothing is staged until `commit`.
   */
  write(files: Record<string, string | Uint8Array | null>): Promise<void>;
  /** Copies a directory tree (e.g. example-config-repo) into the work tree, leaving out any `.git`. */
  copyFrom(dir: string): Promise<void>;
  /**
   * Stages everything (`git add -A`) and commits; resolves with the new commit's sha. `date` fixes
   * both author and committer dates, for commits whose sha must be the same on every run.
   */
  commit(
    message: string,
    options?: { author?: { name: string; email: string }; allowEmpty?: boolean; date?: Date | string },
  ): Promise<string>;
  /** Runs any git command in the work tree; resolves with stdout trimmed, rejects with git's stderr. */
  git(...args: string[]): Promise<string>;
  /** Pushes, by default HEAD to `main`, e.g. to a URL from `createBareRepo`. */
  push(remoteUrl: string, refspec?: string, options?: { force?: boolean }): Promise<void>;
  /** The sha of HEAD. */
  head(): Promise<string>;
}

/**
 * Creates an empty repository in a fresh temp dir (removed when the test process exits), on
 * `branch` (default `main`). Identity and signing are also set in the repository itself, so it
 * behaves the same when someone opens it with their own git to debug a test.
 */
export async function createWorkRepo(options: { branch?: string } = {}): Promise<WorkRepo> {
  const dir = await createTempDir('cairn-repo-');
  await runGit(dir, ['init', '--quiet', '--initial-branch', options.branch ?? 'main']);
  await runGit(dir, ['config', 'user.name', DEFAULT_IDENTITY.name]);
  await runGit(dir, ['config', 'user.email', DEFAULT_IDENTITY.email]);
  await runGit(dir, ['config', 'commit.gpgsign', 'false']);
  await runGit(dir, ['config', 'tag.gpgsign', 'false']);
  return new GitWorkRepo(dir);
}

/**
 * Creates the bare repository `<server.root>/<name>.git` (branch `main`, pushes over HTTP allowed)
 * and resolves with its URL on `server`. `name` may contain `/` to group repositories.
 */
export async function createBareRepo(server: GitServer, name: string): Promise<string> {
  const dir = insideOf(server.root, `${name}.git`);
  await mkdir(dir, { recursive: true });
  await runGit(dir, ['init', '--quiet', '--bare', '--initial-branch', 'main']);
  await runGit(dir, ['config', 'http.receivepack', 'true']);
  return server.url(name);
}

/** Resolves `path` under `root`, refusing anything that would land outside it (`..`, absolute paths). */
function insideOf(root: string, path: string): string {
  const target = resolve(root, path);
  const fromRoot = relative(root, target);
  if (fromRoot === '' || fromRoot.startsWith('..') || isAbsolute(fromRoot)) {
    throw new RangeError(`${JSON.stringify(path)} is not a path inside ${root}`);
  }
  return target;
}

class GitWorkRepo implements WorkRepo {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  async write(files: Record<string, string | Uint8Array | null>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      const target = insideOf(this.dir, path);
      if (content === null) {
        await rm(target, { force: true });
      } else {
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, content);
      }
    }
  }

  async copyFrom(dir: string): Promise<void> {
    await cp(dir, this.dir, { recursive: true, filter: (source) => basename(source) !== '.git' });
  }

  async commit(
    message: string,
    options: { author?: { name: string; email: string }; allowEmpty?: boolean; date?: Date | string } = {},
  ): Promise<string> {
    await this.git('add', '--all');
    const env: Record<string, string> = {};
    if (options.author) {
      env.GIT_AUTHOR_NAME = options.author.name;
      env.GIT_AUTHOR_EMAIL = options.author.email;
    }
    if (options.date !== undefined) {
      const date = options.date instanceof Date ? options.date.toISOString() : options.date;
      env.GIT_AUTHOR_DATE = date;
      env.GIT_COMMITTER_DATE = date;
    }
    const args = ['commit', '--quiet', '--message', message];
    if (options.allowEmpty) args.push('--allow-empty');
    await runGit(this.dir, args, env);
    return this.head();
  }

  git(...args: string[]): Promise<string> {
    return runGit(this.dir, args);
  }

  async push(
    remoteUrl: string,
    refspec = 'HEAD:refs/heads/main',
    options: { force?: boolean } = {},
  ): Promise<void> {
    await this.git('push', '--quiet', ...(options.force ? ['--force'] : []), remoteUrl, refspec);
  }

  head(): Promise<string> {
    return this.git('rev-parse', 'HEAD');
  }
}
