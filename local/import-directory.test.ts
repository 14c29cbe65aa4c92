import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDirectoryAsRepo } from './import-directory.js';

const run = promisify(execFile);

describe('importDirectoryAsRepo', () => {
  let scratch: string;
  let source: string;

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cairn-import-'));
    source = join(scratch, 'config');
    const files: Record<string, string> = {
      'cairn.yaml': 'apiVersion: cairn/v1\n',
      'services/api/service.yaml': 'description: API\n',
      'services/api/config/app.yaml': 'port: 8080\n',
      // A copy of a repository brings its files, not its history.
      '.git/HEAD': 'ref: refs/heads/elsewhere\n',
    };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(source, path, '..'), { recursive: true });
      await writeFile(join(source, path), content);
    }
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('commits every file but .git on main, in a clean working copy, counting files as it adds them', async () => {
    const into = join(scratch, 'state', 'repo');
    const progress: [number, number][] = [];
    const { repo, commit } = await importDirectoryAsRepo(source, {
      into,
      onProgress: (added, total) => progress.push([added, total]),
    });

    expect(repo).toBe(into);
    const git = async (...args: string[]) => (await run('git', ['-C', repo, ...args])).stdout;
    expect((await git('rev-parse', 'main')).trim()).toBe(commit);
    expect((await git('ls-files')).trim().split('\n')).toEqual([
      'cairn.yaml',
      'services/api/config/app.yaml',
      'services/api/service.yaml',
    ]);
    expect(await git('status', '--porcelain')).toBe('');
    expect(await git('log', '-1', '--format=%an <%ae> %s')).toBe(
      `cairn start <cairn@localhost> Import ${source}\n`,
    );
    expect(await readFile(join(repo, 'services/api/config/app.yaml'), 'utf8')).toBe('port: 8080\n');
    expect(progress[0]).toEqual([0, 3]);
    expect(progress.at(-1)).toEqual([3, 3]);
    // Built beside its destination, then renamed: nothing half-made is left.
    expect(existsSync(join(scratch, 'state', '.repo.importing'))).toBe(false);
  });

  it('makes a temp dir when not told where', async () => {
    const { repo } = await importDirectoryAsRepo(source);
    try {
      expect(repo.startsWith(tmpdir())).toBe(true);
      expect(existsSync(join(repo, '.git'))).toBe(true);
    } finally {
      await rm(repo, { recursive: true, force: true });
    }
  });
});
