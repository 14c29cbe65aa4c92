import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyPath } from '../core/index.js';
import { EXAMPLE_REPO_DIR } from '../test/support/example-repo.js';
import { runCliCaptured } from '../test/support/run-cli.js';

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

const cairn = (...args: string[]) => runCliCaptured(args);

describe('cairn validate', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'cairn-cli-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  async function repoWith(name: string, files: Record<string, string | Uint8Array>): Promise<string> {
    const dir = join(scratch, name);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    return dir;
  }

  it('passes the example repository with exit status 0', async () => {
    const { code, stdout, stderr } = await cairn('validate', 'example-config-repo');
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe('valid: 0 errors, 0 warnings (4 services checked)\n');
  });

  it('prints file:line:column lines and exits 1 on errors', async () => {
    const dir = await repoWith('broken', {
      'cairn.yaml': 'apiVersion: cairn/v1\nenvironments:\n  dev:\n    tracks: { branch: main }\n',
      'services/api/service.yaml':
        'apiVersion: cairn/v1\ndescription: API\nowners: [team:api]\nenvironments:\n  dev:\n    hosts: []\n',
      'services/api/config/app.yaml': 'a: 1\na: 2\n',
    });
    const { code, stdout } = await cairn('validate', dir);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `${join(dir, 'services/api/config/app.yaml')}:2:1: error yaml/duplicate-key: duplicate key "a": only one value can be kept\n`,
    );
    expect(stdout).toMatch(/^invalid: 1 error, 0 warnings \(1 service checked\)$/m);
  });

  it('checks a worktree or submodule checkout, whose .git is a file naming the repository', async () => {
    const dir = await repoWith('worktree', {
      '.git': 'gitdir: /srv/config/.git/worktrees/review\n',
      'cairn.yaml': 'apiVersion: cairn/v1\nenvironments:\n  dev:\n    tracks: { branch: main }\n',
    });
    const { code, stdout } = await cairn('validate', dir);
    expect({ code, stdout }).toEqual({
      code: 0,
      stdout: 'valid: 0 errors, 0 warnings (0 services checked)\n',
    });
  });

  it("reports a guard setting cairn.yaml's schema refuses, at its line", async () => {
    const dir = await repoWith('guard', {
      'cairn.yaml':
        'apiVersion: cairn/v1\nenvironments:\n  dev:\n    tracks: { branch: main }\nguard:\n  allowEmpty: sometimes\n  maxRemovedShare: -0.1\n',
    });
    const { code, stdout } = await cairn('validate', dir);
    expect(code).toBe(1);
    expect(stdout).toContain(
      `${join(dir, 'cairn.yaml')}:6:15: error schema/type: guard.allowEmpty: must be boolean`,
    );
    expect(stdout).toContain(
      `${join(dir, 'cairn.yaml')}:7:20: error schema/minimum: guard.maxRemovedShare: must be >= 0`,
    );
  });

  it('writes machine-readable JSON with --format json', async () => {
    const dir = await repoWith('json-out', { 'cairn.yaml': 'apiVersion: cairn/v2\n' });
    const { code, stdout } = await cairn('validate', '--format', 'json', dir);
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ root: dir, errors: 2, warnings: 0 });
    expect(report.diagnostics.map((d: { rule: string }) => d.rule).sort()).toEqual([
      'schema/const',
      'schema/required',
    ]);
  });

  it('hides warnings with --no-warnings but still counts them', async () => {
    const dir = await repoWith('warnings', {
      'cairn.yaml': 'apiVersion: cairn/v1\nenvironments:\n  dev:\n    tracks: { branch: main }\n',
      'services/api/service.yaml':
        'apiVersion: cairn/v1\ndescription: API\nowners: [team:api]\nenvironments:\n  dev:\n    hosts: []\n',
      'services/api/NOTES.txt': 'stray\n',
    });
    expect((await cairn('validate', dir)).stdout).toContain('layout/stray-file');
    const quiet = await cairn('validate', '--no-warnings', dir);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe('valid: 0 errors, 1 warning (1 service checked)\n');
  });

  it('reports a directory that is not a config repository', async () => {
    const dir = await repoWith('not-a-repo', { 'index.html': '<html></html>\n' });
    const { code, stdout } = await cairn('validate', dir);
    expect(code).toBe(1);
    expect(stdout).toContain('cairn.yaml:1:1: error repo/missing-settings: cairn.yaml is missing');
  });

  it('reports binary junk without a stack trace', async () => {
    const junk = new Uint8Array(2048).map((_, i) => (i * 31 + 7) % 256);
    const dir = await repoWith('junk', {
      'cairn.yaml': junk,
      'policy.yaml': junk,
      'services/x/service.yaml': junk,
      'services/x/config/a.json': junk,
    });
    const { code, stdout, stderr } = await cairn('validate', dir);
    expect(code).toBe(1);
    expect(stderr).toBe('');
    expect(stdout.match(/file\/not-text/g)).toHaveLength(4);
  });

  it('explains a missing directory in one line, with exit status 2', async () => {
    const { code, stdout, stderr } = await cairn('validate', join(scratch, 'does-not-exist'));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `cairn: cannot read config repository at ${join(scratch, 'does-not-exist')}: no such directory\n`,
    );
  });

  it('explains a file given instead of a directory', async () => {
    const file = join(scratch, 'plain-file');
    await writeFile(file, 'x');
    const { code, stderr } = await cairn('validate', file);
    expect(code).toBe(2);
    expect(stderr).toContain('not a directory');
  });

  it('refuses an unknown output format', async () => {
    const { code, stderr } = await cairn('validate', '--format', 'xml', 'example-config-repo');
    expect(code).toBe(2);
    expect(stderr).toBe('cairn: unknown --format "xml": use text or json\n');
  });

  it('refuses an unknown command with usage help', async () => {
    const { code, stderr } = await cairn('frobnicate');
    expect(code).toBe(2);
    expect(stderr).toContain("unknown command 'frobnicate'");
  });
});

describe('cairn schemas', () => {
  it('writes the published schemas, byte for byte those of schemas/', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cairn-schemas-'));
    try {
      const { code, stdout } = await cairn('schemas', '--out', out);
      expect(code).toBe(0);
      expect(stdout.trim().split('\n')).toHaveLength(4);
      for (const file of ['cairn', 'policy', 'service', 'release']) {
        const written = JSON.parse(await readFile(join(out, `${file}.schema.json`), 'utf8'));
        const published = JSON.parse(
          await readFile(join(PROJECT_ROOT, 'schemas', `${file}.schema.json`), 'utf8'),
        );
        expect(written).toEqual(published);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('needs --out', async () => {
    expect((await cairn('schemas')).code).toBe(2);
  });

  it('writes what example-config-repo commits in .cairn/schemas, so the copies cannot drift', async () => {
    const out = await mkdtemp(join(tmpdir(), 'cairn-schemas-'));
    try {
      expect((await cairn('schemas', '--out', out)).code).toBe(0);
      const committed = join(EXAMPLE_REPO_DIR, '.cairn', 'schemas');
      expect((await readdir(committed)).sort()).toEqual((await readdir(out)).sort());
      for (const file of await readdir(out)) {
        expect(await readFile(join(committed, file), 'utf8'), file).toBe(
          await readFile(join(out, file), 'utf8'),
        );
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('are named by a modeline in every manifest of example-config-repo, by a path inside the repository', async () => {
    const schemaOf: Partial<Record<string, string>> = {
      settings: 'cairn.schema.json',
      policy: 'policy.schema.json',
      service: 'service.schema.json',
      release: 'release.schema.json',
    };
    const files = (await readdir(EXAMPLE_REPO_DIR, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
      .map((entry) => relative(EXAMPLE_REPO_DIR, join(entry.parentPath, entry.name)));
    const manifests = files.filter((path) => schemaOf[classifyPath(path).kind]);
    expect(manifests.length).toBeGreaterThan(10);
    for (const path of files) {
      const text = await readFile(join(EXAMPLE_REPO_DIR, path), 'utf8');
      const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(text)?.[1];
      const expected = schemaOf[classifyPath(path).kind];
      if (!expected) {
        expect(modeline, path).toBeUndefined();
        continue;
      }
      expect(modeline, `${path} has no $schema modeline`).toBeDefined();
      const target = resolve(dirname(join(EXAMPLE_REPO_DIR, path)), modeline as string);
      // Inside the repository, so a copy of it keeps completion and validation in the editor.
      expect(relative(EXAMPLE_REPO_DIR, target), path).toBe(`.cairn/schemas/${expected}`);
      expect(existsSync(target), path).toBe(true);
    }
  });
});

describe('the installed cairn binary', () => {
  const exec = promisify(execFile);
  const bin = join(PROJECT_ROOT, 'dist/cli/main.js');

  it('runs from the build that npm ci makes', async () => {
    const { stdout } = await exec(process.execPath, [bin, '--help']);
    expect(stdout).toContain('Usage: cairn');
    const validate = await exec(process.execPath, [bin, 'validate', EXAMPLE_REPO_DIR]);
    expect(validate.stdout).toContain('valid: 0 errors');
  });

  it('exits 1 from the shell on an invalid repository', async () => {
    const error = await exec(process.execPath, [bin, 'validate', join(PROJECT_ROOT, 'core')]).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect(error).toMatchObject({ code: 1 });
    expect((error as { stdout: string }).stdout).toContain('repo/missing-settings');
  });
});
