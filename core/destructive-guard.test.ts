import { describe, expect, it } from 'vitest';
import { validateRepo } from '../schemas/index.js';
import type { ConfigRepo } from './config-repo.js';
import { type DesiredState, desiredStateOf } from './desired-state.js';
import { destructiveChangeDiagnostics } from './destructive-guard.js';

/**
 * A repository of `services` (each with `files` config files) in dev and prod, both following main;
 * `guard` is cairn.yaml's guard section, if any.
 */
const repoOf = (
  services: Record<string, { envs?: string[]; files: number }>,
  options: { envs?: string[]; guard?: string } = {},
): ConfigRepo => {
  const envs = options.envs ?? ['dev', 'prod'];
  const tree = new Map<string, Uint8Array>();
  const put = (path: string, text: string) => tree.set(path, Buffer.from(text));
  put(
    'cairn.yaml',
    `apiVersion: cairn/v1\nenvironments:\n${envs.map((env) => `  ${env}:\n    tracks: { branch: main }\n`).join('')}${options.guard ?? ''}`,
  );
  for (const [name, { envs: own = envs, files }] of Object.entries(services)) {
    put(
      `services/${name}/service.yaml`,
      `apiVersion: cairn/v1\ndescription: ${name}\nowners: [team:core]\nenvironments:\n${own.map((env) => `  ${env}:\n    hosts: [{ host: ${name}-${env}-01 }]\n`).join('')}`,
    );
    for (let i = 0; i < files; i++) put(`services/${name}/config/file-${i}.yaml`, `n: ${i}\n`);
  }
  const { repo, diagnostics } = validateRepo(tree);
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return repo;
};
const REVISION = {
  commit: 'a'.repeat(40),
  author: { name: 'Ada', email: 'ada@example.com' },
  message: '',
  time: '',
};
const stateOf = (repo: ConfigRepo): DesiredState =>
  desiredStateOf({ branch: { name: 'main', repo, revision: REVISION }, tagged: new Map() });
/** The guard's verdict on going from `from` to `to`. */
const verdict = (from: ConfigRepo | undefined, to: ConfigRepo) =>
  destructiveChangeDiagnostics(from ? stateOf(from).environments : new Map(), stateOf(to), to);

const three = { api: { files: 2 }, web: { files: 2 }, worker: { files: 2 } };

describe('the destructive-change guard', () => {
  it('walks the files of the snapshots that changed only, not of those kept as they are', () => {
    const after = stateOf(repoOf(three));
    const walked: string[] = [];
    const before = new Map(
      [...after.environments].map(([key, snapshot]) => {
        const files = snapshot.manifest.files;
        const keys = () => {
          walked.push(key);
          return files.keys();
        };
        // api/dev changed: a manifest of its own, the same files.
        const manifest =
          key === 'api/dev'
            ? { files: Object.assign(new Map(files), { keys }) }
            : { files: Object.assign(files, { keys }) };
        return [key, { ...snapshot, manifest }];
      }),
    );
    expect(destructiveChangeDiagnostics(before, after, repoOf(three))).toEqual([]);
    expect(walked).toEqual(['api/dev']);
  });

  it('allows the first mirror: there is nothing to compare with', () => {
    expect(verdict(undefined, repoOf({}))).toEqual([]);
    expect(verdict(repoOf({}), repoOf(three))).toEqual([]);
  });

  it('allows removing a service while others remain, within the share', () => {
    const { worker: _, ...two } = three;
    expect(verdict(repoOf(three), repoOf(two))).toEqual([]);
  });

  it('refuses leaving every environment with no services, at each environment in cairn.yaml', () => {
    const diagnostics = verdict(repoOf(three), repoOf({}));
    expect(diagnostics).toEqual([
      expect.objectContaining({ file: 'cairn.yaml', line: 3, column: 3, rule: 'guard/empty-environment' }),
      expect.objectContaining({ file: 'cairn.yaml', line: 5, column: 3, rule: 'guard/empty-environment' }),
    ]);
    expect(diagnostics[0]?.severity).toBe('error');
    expect(diagnostics[0]?.message).toContain(
      'leaves environment "dev" with no services (it serves api, web, worker)',
    );
    expect(diagnostics[0]?.message).toContain('guard.allowEmpty: true');
    // Emptied environments are judged by allowEmpty alone: no second finding for their files.
    expect(diagnostics.map((d) => d.rule)).not.toContain('guard/removed-share');
  });

  it('refuses emptying one environment only, whether its services leave it or it leaves cairn.yaml', () => {
    const prodOnly = Object.fromEntries(
      Object.keys(three).map((name) => [name, { envs: ['prod'], files: 2 }]),
    );
    expect(verdict(repoOf(three), repoOf(prodOnly))).toEqual([
      expect.objectContaining({ line: 3, rule: 'guard/empty-environment' }),
    ]);
    const removed = verdict(repoOf(three), repoOf(prodOnly, { envs: ['prod'] }));
    expect(removed).toEqual([
      expect.objectContaining({ file: 'cairn.yaml', rule: 'guard/empty-environment' }),
    ]);
    expect(removed[0]?.message).toContain('the environment is gone from cairn.yaml');
  });

  it('allows emptying an environment when the commit sets guard.allowEmpty', () => {
    const allowed = repoOf({}, { guard: 'guard:\n  allowEmpty: true\n' });
    expect(verdict(repoOf(three), allowed)).toEqual([]);
  });

  it('refuses removing more than guard.maxRemovedShare of the mirrored files, at the setting', () => {
    const fewer = { api: { files: 2 }, web: { files: 1 }, worker: { files: 0 } };
    // 3 of 6 files per environment: half, not more than half.
    expect(verdict(repoOf(three), repoOf(fewer))).toEqual([]);
    const fewest = { api: { files: 1 }, web: { files: 1 }, worker: { files: 0 } };
    const refused = verdict(repoOf(three), repoOf(fewest, { guard: 'guard:\n  maxRemovedShare: 0.6\n' }));
    expect(refused).toEqual([
      expect.objectContaining({ file: 'cairn.yaml', line: 8, column: 3, rule: 'guard/removed-share' }),
    ]);
    expect(refused[0]?.message).toContain('removes 8 of the 12 mirrored files (66.7%)');
    expect(refused[0]?.message).toContain('(60%)');
    expect(verdict(repoOf(three), repoOf(fewest, { guard: 'guard:\n  maxRemovedShare: 0.7\n' }))).toEqual([]);
  });

  it('names a few services of an emptied environment and counts the rest', () => {
    const many = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`svc-${i}`, { files: 1 }]));
    const [first] = verdict(repoOf(many), repoOf({}));
    expect(first?.message).toContain('svc-0, svc-1, svc-2, svc-3, svc-4 and 3 more');
  });
});
