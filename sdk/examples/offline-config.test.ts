/**
 * How a service tests its own use of Cairn without ZooKeeper: point connect() at a config
 * repository directory (`from`) and change files there; the client reads them with the same model
 * and overlays as the syncer and delivers changes as it would from ZooKeeper.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, type ServiceConfig } from '../index.js';

const EXAMPLE_REPO = fileURLToPath(new URL('../../example-config-repo', import.meta.url));

describe('the recommender, tested against real config files', () => {
  let repo: string;
  let cfg: ServiceConfig;
  beforeEach(async () => {
    // A copy, so the test may edit it.
    repo = await mkdtemp(join(tmpdir(), 'config-repo-'));
    await cp(EXAMPLE_REPO, repo, { recursive: true });
    cfg = await connect({ from: repo, service: 'recommender', env: 'dev' });
  });
  afterEach(async () => {
    await cfg.close();
    await rm(repo, { recursive: true, force: true });
  });

  it('sees the dev overlay merged over the base file', () => {
    expect(cfg.source).toBe('directory');
    expect(cfg.value('application.yaml', 'logging.level')).toBe('debug');
    expect(cfg.value('application.yaml', 'ranking.maxResults', { default: 50 })).toBe(40);
  });

  it('follows an edit of the repository, as it would a commit', async () => {
    const changed = new Promise<number>((resolve) =>
      cfg.watchValue('application.yaml', 'ranking.maxResults', resolve, { default: 50 }),
    );
    await writeFile(
      join(repo, 'services/recommender/config/@dev/application.yaml'),
      'ranking:\n  maxResults: 5\n',
    );
    expect(await changed).toBe(5);
  });
});
