import type { WorkRepo } from '../test/harness/index.js';

/**
 * Writes a generated config repository of `fileCount` config files into a work repo: services of
 * 100 YAML files each (about 600 bytes apiece), one environment, so every file is one znode.
 */
export async function writeGeneratedRepo(work: WorkRepo, fileCount: number): Promise<void> {
  const files: Record<string, string> = {
    'cairn.yaml': 'apiVersion: cairn/v1\nenvironments:\n  prod:\n    tracks: { branch: main }\n',
    'policy.yaml':
      'apiVersion: cairn/v1\nrules:\n  - name: owners\n    paths: ["services/**"]\n    require:\n      - approvals: 1\n        from: [owners]\n',
  };
  const perService = 100;
  for (let s = 0; s * perService < fileCount; s++) {
    const service = `svc-${String(s).padStart(3, '0')}`;
    files[`services/${service}/service.yaml`] =
      `apiVersion: cairn/v1\ndescription: Generated service ${s}\nowners: [team:platform]\nenvironments:\n  prod:\n    hosts:\n      - host: ${service}-1.example.internal\n      - host: ${service}-2.example.internal\n`;
    for (let i = 0; i < perService && s * perService + i < fileCount; i++) {
      files[
        `services/${service}/config/module-${String(Math.floor(i / 10)).padStart(2, '0')}/settings-${i}.yaml`
      ] = settingsYaml(s, i, 0);
    }
  }
  await work.write(files);
}

export function settingsYaml(service: number, file: number, revision: number): string {
  return [
    `# settings ${file} of service ${service}, revision ${revision}`,
    'server:',
    `  port: ${8000 + (file % 1000)}`,
    `  maxConnections: ${100 + revision}`,
    '  timeouts: { connectMs: 250, readMs: 1000, writeMs: 1000 }',
    'pool:',
    `  size: ${16 + (file % 16)}`,
    '  idleTimeoutSeconds: 300',
    'features:',
    ...Array.from({ length: 12 }, (_, k) => `  flag${k}: ${(file + k + revision) % 2 === 0}`),
    `description: ${'generated configuration for benchmarking '.repeat(4).trim()}`,
    '',
  ].join('\n');
}
