import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { CairnError, releaseManifestPath } from '../../core/index.js';

const execFileAsync = promisify(execFile);

/** `cairn rollback` could not prepare the revert: says why and what to do. */
export class RollbackError extends CairnError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ROLLBACK_NOT_PREPARED', message, options);
  }
}

export interface PreparedRollback {
  readonly branch: string;
  /** The commit that set the live release, now reverted. */
  readonly reverted: string;
  readonly subject: string;
  readonly from: string;
  readonly to: string;
  /** The commit on `branch` that reverts it. */
  readonly revert: string;
  /** The branch the rollback starts from (where the pull request goes). */
  readonly base: string;
}

/** git in the person's repository, with their own configuration: what they run there too. */
async function git(repo: string, args: readonly string[]): Promise<string> {
  try {
    return (await execFileAsync('git', ['-C', repo, ...args], { maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new RollbackError(`git ${args.join(' ')} failed: ${(failure.stderr ?? failure.message).trim()}`, {
      cause: error,
    });
  }
}

async function versionAt(repo: string, commit: string, path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await git(repo, ['show', `${commit}:${path}`]);
  } catch {
    // The manifest does not exist at that commit.
    return undefined;
  }
  const version = (parse(text) as { version?: unknown } | null)?.version;
  return typeof version === 'string' ? version : undefined;
}

/**
 * Prepares the rollback of a service in an environment as an ordinary change: on a new branch from
 * `base`, `git revert` of the last commit that changed the environment's release manifest. Nothing is
 * pushed: the person opens a pull request, which is reviewed and merged like any other, and the
 * deployment runs from the merge. The working tree must be clean.
 */
export async function prepareRollback(options: {
  readonly repo: string;
  readonly service: string;
  readonly env: string;
  readonly base: string;
}): Promise<PreparedRollback> {
  const { service, env, base } = options;
  const repo = await git(options.repo, ['rev-parse', '--show-toplevel']).catch((error: unknown) => {
    throw new RollbackError(
      `${options.repo} is not in a git repository: run cairn rollback in a clone of the config repository, or pass --repo`,
      { cause: error },
    );
  });
  const path = releaseManifestPath(service, env);
  if ((await git(repo, ['status', '--porcelain'])) !== '')
    throw new RollbackError(
      `${repo} has uncommitted changes: commit or stash them first, the rollback is prepared on a new branch`,
    );
  const commit = await git(repo, ['log', '-1', '--format=%H', base, '--', path]);
  if (!commit)
    throw new RollbackError(`no commit of ${base} changed ${path}: is the service and environment right?`);
  const to = await versionAt(repo, `${commit}^`, path);
  const from = await versionAt(repo, commit, path);
  if (from === undefined)
    throw new RollbackError(
      `${path} was deleted by ${commit.slice(0, 12)}: there is no live release to roll back`,
    );
  if (to === undefined)
    throw new RollbackError(
      `${commit.slice(0, 12)} created ${path}: there is no earlier release to go back to`,
    );
  const subject = await git(repo, ['log', '-1', '--format=%s', commit]);
  const branch = `rollback/${service}-${env}-${from}`.replace(/[^A-Za-z0-9._/-]/g, '-');
  const original = await git(repo, ['rev-parse', '--abbrev-ref', 'HEAD']);
  await git(repo, ['switch', '-c', branch, base]);
  try {
    await git(repo, ['revert', '--no-edit', commit]);
  } catch (error) {
    await git(repo, ['revert', '--abort']).catch(() => {
      // Nothing to abort: the revert failed before it started.
    });
    await git(repo, ['switch', original]);
    await git(repo, ['branch', '-D', branch]);
    throw new RollbackError(
      `git revert ${commit.slice(0, 12)} does not apply cleanly on ${base} (later commits changed the same lines): revert it by hand, or write the previous manifest`,
      { cause: error },
    );
  }
  return {
    branch,
    reverted: commit,
    subject,
    from,
    to,
    revert: await git(repo, ['rev-parse', 'HEAD']),
    base,
  };
}
