import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { decodeHeadRecord, readEnvironment, ZkLayout, ZkSession } from '../../core/index.js';
import { waitFor } from '../harness/index.js';
import { spawnCairn } from '../support/cairn-process.js';

const git = promisify(execFile);

describe('cairn start', () => {
  it('runs a ZooKeeper, a repository and a syncer that mirrors each commit, and cleans up on SIGTERM', async () => {
    const child = spawnCairn(['start']);
    let stdout = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => stdout.includes('press Ctrl-C to stop'), {
        description: 'cairn start is up',
        timeoutMs: 60_000,
      });
      const connectString = /zookeeper {3}(\S+)/.exec(stdout)?.[1] as string;
      const repo = /repository {2}(\S+)/.exec(stdout)?.[1] as string;
      const mirrored = /mirrored ([0-9a-f]{40}) into \/cairn/.exec(stdout)?.[1];
      expect(mirrored).toMatch(/^[0-9a-f]{40}$/);

      const session = await ZkSession.connect({ connectString });
      const layout = new ZkLayout('/cairn');
      const file = async (service: string, env: string, path: string) => {
        const read = await readEnvironment(session, layout, service, env);
        return read.kind === 'snapshot'
          ? Buffer.from(read.snapshot.files.get(path) ?? []).toString()
          : undefined;
      };
      try {
        const head = async () => decodeHeadRecord((await session.get(layout.head())).data).commit;
        expect(await head()).toBe(mirrored);
        expect(await file('recommender', 'staging', 'application.yaml')).toContain('maxConcurrentRequests');
        // prod follows release tags, and there is none yet.
        expect(stdout).toMatch(/prod +follows tags v\*: release with `git -C \S+ tag <version>`/);
        expect(await session.exists(layout.environment('recommender', 'prod'))).toBeUndefined();

        // Editing and committing in the printed repository publishes the change, without a webhook.
        await writeFile(join(repo, 'services/recommender/config/rules/new-rule.yaml'), 'boost: 2\n');
        const env = {
          ...process.env,
          GIT_AUTHOR_NAME: 'A',
          GIT_AUTHOR_EMAIL: 'a@example.com',
          GIT_COMMITTER_NAME: 'A',
          GIT_COMMITTER_EMAIL: 'a@example.com',
        };
        await git('git', ['-C', repo, 'add', '-A'], { env });
        await git('git', ['-C', repo, 'commit', '-q', '-m', 'Add a rule'], { env });
        const committed = (await git('git', ['-C', repo, 'rev-parse', 'HEAD'])).stdout.trim();
        await waitFor(async () => (await head()) === committed, {
          description: 'the new commit mirrored by polling',
          timeoutMs: 20_000,
        });

        // Tagging releases it to prod.
        await git('git', ['-C', repo, 'tag', 'v1.0.0'], { env });
        await waitFor(async () => (await file('recommender', 'prod', 'rules/new-rule.yaml')) !== undefined, {
          description: 'prod released by the tag',
          timeoutMs: 20_000,
        });
      } finally {
        await session.close();
      }

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(repo)).toBe(false);
      await expect(ZkSession.connect({ connectString, connectTimeoutMs: 500 })).rejects.toMatchObject({
        code: 'TIMEOUT',
      });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
