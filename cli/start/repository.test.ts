import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { outlineRepository } from './repository.js';

const EXAMPLE = fileURLToPath(new URL('../../example-config-repo', import.meta.url));

describe('the outline of a repository, for cairn start', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('plays the hosts of dev, and says where an agent writes the example file', async () => {
    const outline = await outlineRepository(EXAMPLE);
    expect(outline.played).toEqual({
      env: 'dev',
      hosts: [
        'edge-dev-01.dc1.northwind.internal',
        'rec-dev-01.dc1.northwind.internal',
        'rec-dev-02.dc1.northwind.internal',
        'reports-dev-01.dc1.northwind.internal',
        'search-dev-01.dc1.northwind.internal',
      ],
    });
    expect(outline.example).toEqual({
      service: 'recommender',
      env: 'dev',
      file: 'services/recommender/config/application.yaml',
    });
    expect(outline.exampleOnHost).toEqual({
      host: 'rec-dev-01.dc1.northwind.internal',
      path: '/etc/recommender/application.yaml',
    });
    expect(outline.services).toEqual(['edge-gateway', 'nightly-reports', 'recommender', 'search-api']);
  });

  it('plays the first environment that follows the branch when there is no dev', async () => {
    const repo = await mkdtemp(join(tmpdir(), 'cairn-outline-'));
    dirs.push(repo);
    await cp(EXAMPLE, repo, { recursive: true });
    await writeFile(
      join(repo, 'cairn.yaml'),
      'apiVersion: cairn/v1\nenvironments:\n  staging:\n    tracks:\n      branch: main\n  prod:\n    tracks:\n      tag: "v*"\n',
    );
    const outline = await outlineRepository(repo);
    expect(outline.played?.env).toBe('staging');
    expect(outline.played?.hosts).toContain('rec-stg-03.dc1.northwind.internal');
    expect(outline.played?.hosts).not.toContain('rec-dev-01.dc1.northwind.internal');
  });
});
